"""mem0 open source as a LoCoMo turn retriever: raw turns (``infer=False``), local, offline.

Setup, per conversation: a ``mem0.Memory`` with a local Qdrant collection and history database
in the work directory, ``MEM0_TELEMETRY=False`` and ``MEM0_DIR`` inside the work directory. Each
turn is one ``Memory.add(..., infer=False)`` with its ``dia_id`` and session date-time in the
metadata; questions go through ``Memory.search(query, top_k=k, threshold=0.0)``.

Embedder: mem0 has no provider for an in-process custom embedder, so the ``Memory`` is built with
the ``huggingface`` provider pointed at a loopback URL (which builds only an HTTP client) and its
``embedding_model`` is then replaced by :class:`SameEmbedder`, a wrapper of the embedder the other
systems use. mem0 insists on an LLM config even with ``infer=False``; it points at
:class:`TrapServer`, a loopback HTTP server that answers 503 and counts requests, so the report
can show the LLM was never called.

mem0's search (2.x) adds BM25 (fastembed's ``Qdrant/bm25``) and spaCy entity boosts to the
semantic score when those are installed. Both fetch their models at run time (the Hugging Face
hub; spaCy's ``en_core_web_sm`` from GitHub), which this machine cannot reach, so with a plain
``pip install mem0ai`` mem0 scores semantically only; :func:`mem0_features` reports which
signals were live. Left out: mem0's LLM extraction and graph memory.
"""

from __future__ import annotations

import http.server
import os
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.locomo.data import Turn

__all__ = ["Mem0Turns", "TrapServer", "configure_mem0_env", "mem0_features", "mem0_version"]


class TrapServer:
    """A loopback HTTP server that refuses every request (503) and counts them."""

    def __init__(self) -> None:
        self.requests = 0
        trap = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _refuse(self) -> None:
                trap.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = _refuse

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def configure_mem0_env(work: Path) -> None:
    """Environment mem0 reads at import: no telemetry, its home inside ``work``."""
    os.environ["MEM0_TELEMETRY"] = "False"
    os.environ["MEM0_DIR"] = str(work / "mem0-home")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def mem0_version() -> str:
    from importlib.metadata import version

    return version("mem0ai")


def mem0_features() -> dict[str, bool]:
    """Which optional mem0 search signals can run here (without network)."""
    import importlib.util

    return {
        "semantic": True,
        "bm25_fastembed": importlib.util.find_spec("fastembed") is not None,
        "entity_boost_spacy": importlib.util.find_spec("spacy") is not None,
    }


def _same_embedder_class() -> type:
    from mem0.embeddings.base import EmbeddingBase

    class SameEmbedder(EmbeddingBase):  # type: ignore[misc]
        """mem0's embedding interface over a contextos ``Embedder``."""

        def __init__(self, inner: Any) -> None:
            super().__init__(None)
            self.inner = inner
            self.config.embedding_dims = inner.dim

        def embed(self, text: str, memory_action: str | None = None) -> list[float]:
            return [float(x) for x in self.inner.embed_batch([text])[0]]

        def embed_batch(self, texts: list[str], memory_action: str = "add") -> list[list[float]]:
            return [[float(x) for x in row] for row in self.inner.embed_batch(texts)]

    return SameEmbedder


class Mem0Turns:
    """One conversation's turns in a fresh mem0 ``Memory``."""

    def __init__(
        self, turns: Sequence[Turn], embedder: Any, root: Path, conversation: str, trap: TrapServer
    ) -> None:
        from mem0 import Memory

        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        self._user = conversation
        config = {
            "vector_store": {
                "provider": "qdrant",
                "config": {
                    "collection_name": "locomo",
                    "embedding_model_dims": embedder.dim,
                    "path": str(root / "qdrant"),
                },
            },
            "embedder": {
                "provider": "huggingface",
                "config": {"huggingface_base_url": trap.base_url, "embedding_dims": embedder.dim},
            },
            "llm": {
                "provider": "openai",
                "config": {
                    "model": "unused",
                    "api_key": "unused",
                    "openai_base_url": trap.base_url,
                },
            },
            "history_db_path": str(root / "history.db"),
        }
        self._memory = Memory.from_config(config)
        self._memory.embedding_model = _same_embedder_class()(embedder)
        for t in turns:
            self._memory.add(
                [{"role": "user", "content": t.text}],
                user_id=conversation,
                metadata={"dia_id": t.dia_id, "session_time": t.valid_from.isoformat()},
                infer=False,
            )

    def recall(self, query: str, k: int) -> list[str]:
        found = self._memory.search(query, top_k=k, filters={"user_id": self._user}, threshold=0.0)
        return [r["metadata"]["dia_id"] for r in found["results"]]

    def close(self) -> None:
        client = getattr(self._memory.vector_store, "client", None)
        if client is not None:
            client.close()
        self._memory.db.close()

"""A sentence-transformers embedder, on CPU: better vectors than a static model, ~50× slower.

Implements the ``Embedder`` protocol over any sentence-transformers model given by local path or
hub name (the hub is only reached if the name is not a directory and is not cached). Leaves out
GPU selection, prompts/instructions and multi-process encoding.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from contextos.embed._rows import unit_rows
from contextos.embed.protocol import Vectors
from contextos.embed.static import file_sha256
from contextos.errors import EmbeddingError

__all__ = ["SentenceTransformerEmbedder"]

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def _model_id(name_or_path: str) -> str:
    """Directory name + short hash of its weights for a local model, else the hub name."""
    path = Path(name_or_path).expanduser()
    if not path.is_dir():
        return name_or_path
    for rel in _WEIGHT_FILES:
        weights = path / rel
        if weights.is_file():
            return f"{path.resolve().name}-{file_sha256(weights)[:12]}"
    return str(path.resolve())


class SentenceTransformerEmbedder:
    """``Embedder`` over ``sentence_transformers.SentenceTransformer`` on the CPU.

    ``name`` is ``"sentence-transformers:<id>"`` where ``<id>`` is the hub name, or for a local
    directory its name plus 12 hex of its weights' sha256. Texts longer than the model's
    ``max_seq_length`` are truncated by the model. Loading raises ``EmbeddingError``.
    """

    def __init__(self, name_or_path: str, *, batch_size: int = 32) -> None:
        try:
            from sentence_transformers import SentenceTransformer

            self._model: Any = SentenceTransformer(name_or_path, device="cpu")
        except ImportError as exc:
            raise EmbeddingError(
                "sentence-transformers is not installed: pip install 'contextos[transformers]'"
            ) from exc
        except (OSError, ValueError, RuntimeError) as exc:
            raise EmbeddingError(
                f"cannot load sentence-transformers model {name_or_path!r}: {exc}"
            ) from exc
        self._name = f"sentence-transformers:{_model_id(name_or_path)}"
        self._batch_size = batch_size
        self._lock = threading.Lock()
        model = self._model
        get_dim = getattr(model, "get_embedding_dimension", None)
        dim = get_dim() if get_dim is not None else model.get_sentence_embedding_dimension()
        self._dim = int(dim) if dim else int(self._encode(["dimension probe"]).shape[1])

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> Vectors:
        with self._lock:
            raw = self._model.encode(
                list(texts),
                batch_size=self._batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return unit_rows(raw, source=self._name)

"""The turn retrievers the LoCoMo benchmark compares (mem0 lives in ``mem0_baseline``).

Each system is built over one conversation's turns and answers ``recall(query, k)`` with turn
ids, best first. All see the same turn texts (``benchmarks.locomo.data.turn_text``):

* ``Bm25Turns`` — ``bm25s`` (Lucene BM25, k1 1.5, b 0.75) over lower-cased words, English
  stopwords removed, Snowball English stemming (PyStemmer) when installed; only turns with a
  positive score are returned;
* ``DenseTurns`` — cosine similarity of the query's and turns' vectors from the given embedder
  (the one contextos uses), exhaustive;
* ``ContextosTurns`` — ``contextos.memory.MemoryStore`` in a fresh database file, each turn added
  with its session date-time as ``valid_from``, ``source`` = ``"<conversation>:<dia_id>"`` (how
  hits map back to turns) and one constant tag, so tags carry no signal into ranking.

Left out: any model step (query rewriting, extraction); every system stores raw turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from benchmarks.locomo.data import Turn

__all__ = ["BM25_DESCRIPTION", "Bm25Turns", "ContextosTurns", "DenseTurns", "TurnRetriever"]


class TurnRetriever(Protocol):
    def recall(self, query: str, k: int) -> list[str]: ...

    def close(self) -> None: ...


def _stemmer() -> Any:
    try:
        import Stemmer
    except ImportError:
        return None
    return Stemmer.Stemmer("english")


BM25_DESCRIPTION = {
    "library": "bm25s",
    "method": "lucene",
    "k1": 1.5,
    "b": 0.75,
    "tokenizer": "bm25s.tokenize: lower-cased \\w\\w+ words, English stopwords",
    "stemmer": "snowball english (PyStemmer)" if _stemmer() is not None else None,
}


class Bm25Turns:
    """BM25 over the turns' texts."""

    def __init__(self, turns: Sequence[Turn]) -> None:
        import bm25s

        self._bm25s = bm25s
        self._stem = _stemmer()
        self._ids = [t.dia_id for t in turns]
        self._index = bm25s.BM25(method="lucene", k1=1.5, b=0.75)
        self._index.index(self._tokens([t.text for t in turns]), show_progress=False)

    def _tokens(self, texts: list[str]) -> list[list[str]]:
        tokens: list[list[str]] = self._bm25s.tokenize(
            texts, stopwords="en", stemmer=self._stem, return_ids=False, show_progress=False
        )
        return tokens

    def recall(self, query: str, k: int) -> list[str]:
        ids = self._index.get_tokens_ids(self._tokens([query])[0])
        if not ids:
            return []
        scores = self._index.get_scores_from_ids(ids)
        order = np.argsort(-scores, kind="stable")[:k]
        return [self._ids[i] for i in order if scores[i] > 0]

    def close(self) -> None:
        pass


class DenseTurns:
    """Exhaustive cosine similarity with ``embedder`` (rows are L2-normalised by contract)."""

    def __init__(self, turns: Sequence[Turn], embedder: Any) -> None:
        self._embedder = embedder
        self._ids = [t.dia_id for t in turns]
        self._matrix = np.asarray(embedder.embed_batch([t.text for t in turns]), dtype=np.float32)

    def recall(self, query: str, k: int) -> list[str]:
        q = np.asarray(self._embedder.embed_batch([query]), dtype=np.float32)[0]
        scores = self._matrix @ q
        order = np.argsort(-scores, kind="stable")[:k]
        return [self._ids[i] for i in order]

    def close(self) -> None:
        pass


class ContextosTurns:
    """The contextos memory engine over a fresh store at ``db``."""

    def __init__(
        self,
        turns: Sequence[Turn],
        embedder: Any,
        db: Path | None,
        conversation: str,
        *,
        database_url: str | None = None,
    ) -> None:
        from contextos.memory import MemoryStore

        self._prefix = f"{conversation}:"
        if db is None:  # PostgreSQL: the caller set a fresh schema prefix
            self._store = MemoryStore.open(embedder=embedder, database_url=database_url)
        else:
            for suffix in ("", "-wal", "-shm", "-journal"):
                db.with_name(db.name + suffix).unlink(missing_ok=True)
            db.parent.mkdir(parents=True, exist_ok=True)
            self._store = MemoryStore.open(db, embedder=embedder)
        self._store.add_many(
            [
                {
                    "text": t.text,
                    "tag": "locomo",
                    "scope": "user",
                    "source": self._prefix + t.dia_id,
                    "valid_from": t.valid_from,
                }
                for t in turns
            ]
        )

    def recall(self, query: str, k: int) -> list[str]:
        hits = self._store.recall(query, k=k)
        return [h.memory.source.removeprefix(self._prefix) for h in hits]

    def close(self) -> None:
        close = getattr(self._store, "close", None)
        if close is not None:
            close()

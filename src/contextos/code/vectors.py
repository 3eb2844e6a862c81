"""Brute-force cosine search over a numpy matrix of chunk vectors.

Chosen over sqlite-vec and usearch after measuring (benchmarks.micro.vector_store): at 100k vectors
of dimension 256 an exact matrix product is well under the 50 ms p95 budget, is exact (no recall
loss), needs no extra index file to keep consistent, and its source of truth stays the ``chunks``
table. The matrix is loaded lazily and reloaded when the index generation changes. A large index
on PostgreSQL is searched there instead, through pgvector's HNSW (``code.pgvectors``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from contextos.code import pgvectors
from contextos.store.db import Connection
from contextos.store.pg import PgDatabase

__all__ = ["VectorIndex"]


class VectorIndex:
    """Chunk ids and their vectors, kept in step with the database."""

    def __init__(self) -> None:
        self._generation: int | None = None
        self._loaded = False
        self._ids: NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._matrix: NDArray[np.float32] = np.zeros((0, 0), dtype=np.float32)
        self._ann: dict[int, bool] = {}

    def check(self, generation: int) -> None:
        """Drop the loaded matrix if the index generation moved on."""
        if generation != self._generation:
            self._loaded = False
            self._generation = generation
            self._ann = {}

    def _refresh(self, conn: Connection) -> None:
        if self._loaded:
            return
        rows = conn.execute(
            "SELECT id, vector FROM chunks WHERE vector IS NOT NULL ORDER BY id"
        ).fetchall()
        if rows:
            self._ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            self._matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(
                len(rows), -1
            )
        else:
            self._ids = np.zeros(0, dtype=np.int64)
            self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._loaded = True

    def search(
        self, conn: Connection, query: NDArray[np.float32], k: int
    ) -> list[tuple[int, float]]:
        """The ``k`` chunk ids most similar to ``query`` (normalised), best first."""
        if isinstance(conn, PgDatabase):
            dim = int(query.shape[-1])
            if dim not in self._ann:
                self._ann[dim] = pgvectors.uses_ann(conn, dim)
            if self._ann[dim]:
                return pgvectors.search(conn, query, k)
        self._refresh(conn)
        if len(self._ids) == 0 or self._matrix.shape[1] != query.shape[-1]:
            return []
        scores = self._matrix @ query.reshape(-1)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(self._ids[i]), float(scores[i])) for i in top]

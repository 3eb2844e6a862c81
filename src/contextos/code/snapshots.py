"""Read-side caches of a workspace index, kept in step with the index generation.

The indexer bumps ``meta.generation`` in every write transaction. Readers compare it (one
indexed row read) before each search and reload only what is stale: the vector matrix and the
BM25 postings of chunks and files. BM25 snapshots are persisted next to the database.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from contextos.code.bm25 import Bm25Index
from contextos.code.vectors import VectorIndex

__all__ = ["Snapshots", "bump_generation", "generation"]

_FTS = {"chunks": "chunks_fts", "files": "files_fts"}


def generation(conn: sqlite3.Connection) -> str:
    row = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    return str(row[0]) if row else "0"


def bump_generation(conn: sqlite3.Connection) -> None:
    """Call inside a write transaction that changed chunks, files or vectors."""
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('generation', '1') ON CONFLICT(key)"
        " DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


class Snapshots:
    """Lazily built, generation-checked BM25 and vector indexes for one database."""

    def __init__(self, db_path: Path, names_weight: float = 2.0) -> None:
        self.db_path = db_path
        self.names_weight = names_weight
        self.vectors = VectorIndex()
        self._bm25: dict[str, tuple[str, Bm25Index]] = {}

    def bm25(self, conn: sqlite3.Connection, table: str) -> Bm25Index:
        gen = f"{generation(conn)}:{self.names_weight}"
        cached = self._bm25.get(table)
        if cached is not None and cached[0] == gen:
            return cached[1]
        path = self.db_path.with_name(f"{self.db_path.name}.{table}.bm25.npz")
        index = Bm25Index.load(path, gen)
        if index is None:
            index = Bm25Index.build(conn, _FTS[table], self.names_weight)
            with contextlib.suppress(OSError):  # read-only location: rebuild next time
                index.save(path, gen)
        self._bm25[table] = (gen, index)
        return index

    def vector_index(self, conn: sqlite3.Connection) -> VectorIndex:
        self.vectors.check(generation(conn))
        return self.vectors

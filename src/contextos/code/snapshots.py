"""Read-side caches of a workspace index, kept in step with the index generation.

The indexer bumps ``meta.generation`` in every write transaction. Readers compare it (one
indexed row read) before each search and reload only what is stale: the vector matrix, the
BM25 postings of chunks and files, and the file reference graph. BM25 snapshots are persisted
next to the database; the graph is rebuilt in memory (one scan of the chunk texts). While
another process is indexing, a snapshot up to ``STALE_S`` old is reused, so searching during a
long index stays fast (results may miss the newest files for a few seconds, never show
half-written ones).
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from pathlib import Path

from contextos.code.graph import RefGraph, build_graph
from contextos.code.vectors import VectorIndex
from contextos.retrieval.bm25 import Bm25Index
from contextos.store.db import Connection, generation

__all__ = ["Snapshots", "index_running"]

_FTS = {"chunks": "chunks_fts", "files": "files_fts"}
STALE_S = 5.0
"""While an indexer is writing, a snapshot up to this old is reused rather than rebuilt."""


def index_running(db_path: Path) -> bool:
    """True if another process holds the workspace's index lock right now."""
    try:
        with open(str(db_path) + ".lock", "rb") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
    except OSError:
        return False
    return False


class Snapshots:
    """Lazily built, generation-checked BM25 indexes, vectors and file graph of one database."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.vectors = VectorIndex()
        self._bm25: dict[str, tuple[str, Bm25Index]] = {}
        self._graph: tuple[str, RefGraph] | None = None
        self._built_at: dict[str, float] = {}

    def bm25(self, conn: Connection, table: str, names_weight: float) -> Bm25Index:
        """The BM25 postings of ``table`` with name tokens counting ``names_weight`` times."""
        gen = f"{generation(conn)}:{names_weight}"
        cached = self._bm25.get(table)
        if cached is not None and cached[0] == gen:
            return cached[1]
        if cached is not None and self._reusable(table):
            return cached[1]
        path = self.db_path.with_name(f"{self.db_path.name}.{table}.bm25.npz")
        index = Bm25Index.load(path, gen)
        if index is None:
            index = Bm25Index.build(conn, _FTS[table], names_weight)
            with contextlib.suppress(OSError):  # read-only location: rebuild next time
                index.save(path, gen)
        self._bm25[table] = (gen, index)
        self._built_at[table] = time.monotonic()
        return index

    def graph(self, conn: Connection) -> RefGraph:
        """The file reference graph of the index (``contextos.code.graph.build_graph``)."""
        gen = str(generation(conn))
        if self._graph is not None and (self._graph[0] == gen or self._reusable("graph")):
            return self._graph[1]
        graph = build_graph(conn)
        self._graph = (gen, graph)
        self._built_at["graph"] = time.monotonic()
        return graph

    def _reusable(self, key: str) -> bool:
        """A stale snapshot is still served while an indexer writes, if built under ``STALE_S``
        ago: rebuilding on every batch the indexer commits would stall searches."""
        fresh = self._built_at[key] + STALE_S > time.monotonic()
        return fresh and index_running(self.db_path)

    def vector_index(self, conn: Connection) -> VectorIndex:
        self.vectors.check(generation(conn))
        return self.vectors

"""A persistent embedding cache shared by every workspace, branch and checkout on the machine.

``CachedEmbedder(inner)`` answers from one SQLite table keyed by (embedder name, sha256 of the
text) and asks ``inner`` only for texts it has never seen, so re-indexing, switching branches or
indexing a second checkout re-embeds nothing. With ``database_url`` set, texts missing here are
looked up in the team's table next (``embed.shared``: vectors CI pushed with ``contextos index
--push``) before the model is asked. Safe for concurrent processes: WAL journal,
``busy_timeout``, each write one short transaction (opened by ``store.db`` like every database
here), and a race that computes the same vector twice stores it once. Leaves out eviction:
rows are ~1 KiB and the file can be deleted at will.

Schema (migration 1)::

    CREATE TABLE embedding (
        model TEXT NOT NULL,         -- Embedder.name: model and weights
        text_sha256 BLOB NOT NULL,   -- sha256 of the UTF-8 text
        vector BLOB NOT NULL,        -- float32 little-endian, dim * 4 bytes
        PRIMARY KEY (model, text_sha256)
    ) WITHOUT ROWID;
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from contextos.embed.protocol import Embedder, Vectors
from contextos.embed.shared import SharedVectors
from contextos.errors import StoreError
from contextos.home import cache_dir
from contextos.store.db import Migration, connect, rows_in, transaction

__all__ = ["CACHE_FILE", "CachedEmbedder"]

CACHE_FILE = "embeddings.sqlite3"
"""File name of the default cache, under ``cache_dir()``."""

_LOOKUP_CHUNK = 500


def _migration_1(conn: sqlite3.Connection) -> None:
    """The embedding table (``IF NOT EXISTS``: caches of earlier versions already have it)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS embedding (model TEXT NOT NULL, text_sha256 BLOB NOT NULL, "
        "vector BLOB NOT NULL, PRIMARY KEY (model, text_sha256)) WITHOUT ROWID"
    )


MIGRATIONS: tuple[Migration, ...] = (_migration_1,)
"""Numbered by position (1-based); ``store.db.connect`` applies and records them."""


class CachedEmbedder:
    """``Embedder`` that wraps ``inner`` with the persistent cache at ``path``.

    ``name`` and ``dim`` are ``inner``'s; vectors are returned bit-identical to what ``inner``
    produced the first time. ``path`` defaults to ``cache_dir() / CACHE_FILE``; the database is
    opened on first use. ``sqlite3`` failures raise ``StoreError``.
    """

    def __init__(
        self,
        inner: Embedder,
        path: Path | None = None,
        *,
        shared: SharedVectors | Literal["auto"] | None = "auto",
    ) -> None:
        self.inner = inner
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._shared = shared

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def path(self) -> Path:
        """The cache database file."""
        return self._path if self._path is not None else cache_dir() / CACHE_FILE

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts``, calling ``inner`` once with the distinct texts not yet cached."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        keys = [hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest() for text in texts]
        with self._lock:
            try:
                found = self._lookup(keys)
                missing = {
                    key: text for key, text in zip(keys, texts, strict=True) if key not in found
                }
                shared = self.shared if missing else None
                if shared is not None:
                    team = shared.get(self.name, list(missing))
                    self._store(team)
                    found.update(team)
                    missing = {key: text for key, text in missing.items() if key not in team}
                if missing:
                    fresh = self.inner.embed_batch(list(missing.values()))
                    new = dict(zip(missing, fresh, strict=True))
                    self._store(new)
                    found.update(new)
            except sqlite3.Error as exc:
                raise StoreError(f"embedding cache {self.path} failed: {exc}") from exc
        if len({len(vec) for vec in found.values()}) > 1:
            raise StoreError(
                f"embedding cache {self.path} holds vectors of another dimension for "
                f"{self.name!r}; delete the file to reset the cache"
            )
        return np.stack([found[key] for key in keys]).astype(np.float32, copy=False)

    def close(self) -> None:
        """Close the database connections (the local one reopens on next use)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if isinstance(self._shared, SharedVectors):
                self._shared.close()
                self._shared = "auto"

    @property
    def shared(self) -> SharedVectors | None:
        """The team's vector table when ``database_url`` is set (opened on first need)."""
        if self._shared == "auto":
            from contextos.store.backends import team_url

            url = team_url()
            self._shared = SharedVectors.open(url) if url else None
        return self._shared if isinstance(self._shared, SharedVectors) else None

    def __enter__(self) -> CachedEmbedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect(self.path, MIGRATIONS)
        return self._conn

    def _lookup(self, keys: list[bytes]) -> dict[bytes, Vectors]:
        rows = rows_in(
            self._connection(),
            "SELECT text_sha256, vector FROM embedding"
            " WHERE model = ? AND text_sha256 IN ({marks})",
            list(dict.fromkeys(keys)),
            args=(self.name,),
            size=_LOOKUP_CHUNK,
        )
        found = {bytes(key): np.frombuffer(blob, dtype="<f4") for key, blob in rows}
        lengths = Counter(len(vec) for vec in found.values())
        if len(lengths) > 1:
            usual = lengths.most_common(1)[0][0]
            return {key: vec for key, vec in found.items() if len(vec) == usual}
        return found

    def _store(self, vectors: dict[bytes, Vectors]) -> None:
        conn = self._connection()
        rows = [
            (self.name, key, np.ascontiguousarray(vec, dtype="<f4").tobytes())
            for key, vec in vectors.items()
        ]
        with transaction(conn):
            conn.executemany("INSERT OR REPLACE INTO embedding VALUES (?, ?, ?)", rows)

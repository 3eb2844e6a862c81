"""Chunk vectors shared by a team in PostgreSQL (pgvector), keyed by content.

CI runs ``contextos index --push``: every chunk vector of its index goes to one table,
``<prefix>_vectors.chunk_vectors`` (model, sha256 of the text the embedder saw, a pgvector
``vector``). A laptop with the same ``database_url`` indexing the same commit, or a nearby one,
finds each unchanged chunk's vector there (``CachedEmbedder`` asks its local cache, then this
table, and only then the model), so it embeds only what changed. Keys are content hashes: a
path, a branch or a checkout directory never matters, and a vector can only ever be the
model's answer for exactly that text.

Vectors travel in pgvector's binary form (``vector_send``: dimension, then big-endian float32),
so what comes back is bit-identical to what was pushed. Writes are ``ON CONFLICT DO NOTHING``:
pushing twice, or two CI jobs at once, stores each vector once. Left out: an HNSW index (this
table is looked up by key, never searched by similarity; search ranks in memory as on SQLite).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from contextos.embed.protocol import Vectors
from contextos.store.db import rows_in
from contextos.store.pg import Dialect, PgDatabase, PgMigration, vector_text

__all__ = ["DIALECT", "PG_MIGRATIONS", "SharedVectors"]

_BATCH = 500


def m001_chunk_vectors(db: PgDatabase) -> None:
    """The pgvector extension and the content-keyed vector table."""
    db.execute(
        "CREATE TABLE chunk_vectors (model TEXT NOT NULL, text_sha256 BYTEA NOT NULL,"
        f" embedding {db.vector_schema()}.vector NOT NULL,"
        " pushed_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (model, text_sha256))"
    )


PG_MIGRATIONS: tuple[PgMigration, ...] = (m001_chunk_vectors,)
DIALECT = Dialect()


def _from_binary(blob: bytes) -> Vectors:
    dim = int.from_bytes(blob[:2], "big")
    return np.frombuffer(blob[4 : 4 + 4 * dim], dtype=">f4").astype(np.float32)


class SharedVectors:
    """The team's vector table; ``get`` and ``put`` by (model, sha256 of text)."""

    def __init__(self, db: PgDatabase) -> None:
        self.db = db
        self._ext = db.vector_schema()

    @classmethod
    def open(cls, url: str) -> SharedVectors:
        from contextos.store.backends import open_pg

        return cls(open_pg(url, "vectors"))

    def get(self, model: str, keys: Sequence[bytes]) -> dict[bytes, Vectors]:
        rows = rows_in(
            self.db,
            f"SELECT text_sha256, {self._ext}.vector_send(embedding) FROM chunk_vectors"
            " WHERE model = ? AND text_sha256 IN ({marks})",
            list(dict.fromkeys(keys)),
            args=(model,),
        )
        return {bytes(key): _from_binary(bytes(blob)) for key, blob in rows}

    def existing(self, model: str, keys: Sequence[bytes]) -> set[bytes]:
        """Which of ``keys`` the table holds for ``model`` (no vectors transferred)."""
        rows = rows_in(
            self.db,
            "SELECT text_sha256 FROM chunk_vectors WHERE model = ? AND text_sha256 IN ({marks})",
            list(dict.fromkeys(keys)),
            args=(model,),
        )
        return {bytes(r[0]) for r in rows}

    def put(self, model: str, vectors: Iterable[tuple[bytes, Vectors]]) -> int:
        """Store vectors not stored yet; the number of rows given."""
        rows = [(model, key, vector_text(vec)) for key, vec in vectors]
        for start in range(0, len(rows), _BATCH):
            self.db.executemany(
                "INSERT OR IGNORE INTO chunk_vectors(model, text_sha256, embedding)"
                f" VALUES (?, ?, CAST(? AS {self._ext}.vector))",
                rows[start : start + _BATCH],
            )
        return len(rows)

    def count(self, model: str | None = None) -> int:
        if model is None:
            row = self.db.execute("SELECT COUNT(*) FROM chunk_vectors").fetchone()
        else:
            row = self.db.execute(
                "SELECT COUNT(*) FROM chunk_vectors WHERE model = ?", (model,)
            ).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.db.close()

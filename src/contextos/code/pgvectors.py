"""Chunk vectors of a code index on PostgreSQL, in pgvector, with an HNSW index for large ones.

The portable ``chunks.vector`` column (float32 bytes) stays the source of truth on both
backends. On PostgreSQL ``sync`` mirrors it into ``chunks.embedding`` (a pgvector ``vector``,
written in its binary form, so the values are the same float32s) after each index run, and once
an index holds ``ANN_MIN_CHUNKS`` embedded chunks it builds an HNSW index (cosine) over them.
``search`` then asks PostgreSQL for the nearest chunks instead of loading every vector into the
process: what a monorepo too large for each server's memory needs. Below the threshold the
exact in-memory product (``code.vectors``) serves, so small and medium indexes rank exactly as
on SQLite. HNSW is approximate: ``EF_SEARCH`` sets its breadth (recall against the exact
product is measured in ``docs/benchmarks.md``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from contextos.store.pg import PgDatabase, vector_text

__all__ = ["ANN_MIN_CHUNKS", "EF_SEARCH", "search", "sync", "uses_ann"]

ANN_MIN_CHUNKS = 50_000
"""Embedded chunks from which an index on PostgreSQL is searched through HNSW."""
EF_SEARCH = 200
"""HNSW candidate list per query (pgvector's default is 40; at least ``2 * k`` is used)."""
_BATCH = 2000


def _dim(db: PgDatabase) -> int:
    row = db.execute(
        "SELECT length(vector) / 4 FROM chunks WHERE vector IS NOT NULL LIMIT 1"
    ).fetchone()
    return int(row[0]) if row and row[0] else 0


def _has_mirror(db: PgDatabase) -> bool:
    row = db.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name = 'chunks' AND column_name = 'embedding'"
    ).fetchone()
    return row is not None


def _add_mirror(db: PgDatabase, ext: str) -> None:
    """The ``embedding`` column and the trigger that marks a re-embedded chunk's mirror stale
    (the next sync writes it again), once per index, in one write transaction."""
    with db.transaction():
        db.execute(f"ALTER TABLE chunks ADD COLUMN IF NOT EXISTS embedding {ext}.vector")
        db.execute(
            "CREATE OR REPLACE FUNCTION chunks_vector_changed() RETURNS trigger"
            " LANGUAGE plpgsql AS $$ BEGIN NEW.embedding := NULL; RETURN NEW; END $$"
        )
        db.execute("DROP TRIGGER IF EXISTS chunks_vector_changed ON chunks")
        db.execute(
            "CREATE TRIGGER chunks_vector_changed BEFORE UPDATE OF vector ON chunks"
            " FOR EACH ROW EXECUTE FUNCTION chunks_vector_changed()"
        )


def sync(db: PgDatabase) -> int:
    """Mirror new chunk vectors into pgvector and build the HNSW index when the index is large
    enough; the number of vectors written."""
    from pgvector.psycopg import register_vector

    ext = db.vector_schema()
    if not _has_mirror(db):
        _add_mirror(db, ext)
    written = 0
    while True:
        rows = db.execute(
            "SELECT id, vector FROM chunks WHERE vector IS NOT NULL AND embedding IS NULL"
            f" ORDER BY id LIMIT {_BATCH}"
        ).fetchall()
        if not rows:
            break
        with db.native() as conn:
            register_vector(conn)
            with conn.cursor() as cur:
                cur.executemany(
                    "UPDATE chunks SET embedding = %s WHERE id = %s",
                    [(np.frombuffer(r[1], dtype=np.float32), r[0]) for r in rows],
                )
        written += len(rows)
    dim = _dim(db)
    count = db.execute("SELECT COUNT(*) FROM chunks WHERE embedding IS NOT NULL").fetchone()
    if dim and count and int(count[0]) >= ANN_MIN_CHUNKS:
        db.execute(
            f"CREATE INDEX IF NOT EXISTS chunks_hnsw_{dim} ON chunks USING hnsw"
            f" ((embedding::{ext}.vector({dim})) {ext}.vector_cosine_ops)"
            f" WHERE length(vector) = {dim * 4}"
        )
    return written


def uses_ann(db: PgDatabase, dim: int) -> bool:
    """Whether this index is searched through HNSW (built by ``sync`` for ``dim``)."""
    row = db.execute(
        "SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ?",
        (f"chunks_hnsw_{dim}",),
    ).fetchone()
    return row is not None


def search(db: PgDatabase, query: NDArray[np.float32], k: int) -> list[tuple[int, float]]:
    """The ``k`` nearest chunks to ``query`` (normalised) by cosine through HNSW, best first."""
    dim = int(query.shape[-1])
    ext = db.vector_schema()
    vector = f"CAST(? AS {ext}.vector({dim}))"
    distance = f"(embedding::{ext}.vector({dim})) <=> {vector}"
    with db.transaction(immediate=False):
        db.execute(f"SET LOCAL hnsw.ef_search = {max(EF_SEARCH, 2 * k)}")
        text = vector_text(query.reshape(-1))
        rows = db.execute(
            f"SELECT id, 1 - ({distance}) FROM chunks WHERE length(vector) = {dim * 4}"
            f" ORDER BY {distance} LIMIT ?",
            (text, text, k),
        ).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows]

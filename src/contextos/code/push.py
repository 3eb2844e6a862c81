"""``contextos index --push``: the index's chunk vectors into the team's shared table.

CI indexes a checkout, then pushes every chunk vector to ``embed.shared`` keyed by (embedder,
sha256 of the text the embedder saw for the chunk: ``indexer.embed_text``). Another machine with
``database_url`` set that indexes the same commit, or a nearby one, gets each unchanged chunk's
vector from there instead of running the model (``embed.cache.CachedEmbedder``). Chunking and
lexical postings are rebuilt locally: they cost about a millisecond per file, the model is what
a fresh machine waits for.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import numpy as np

from contextos.code.indexer import embed_text, row_chunk
from contextos.embed.protocol import Vectors
from contextos.embed.shared import SharedVectors
from contextos.errors import UserInputError
from contextos.store.db import Connection

__all__ = ["PushSummary", "index_vectors", "push_vectors"]


@dataclass(frozen=True, slots=True)
class PushSummary:
    model: str
    chunks: int
    pushed: int
    already_shared: int
    seconds: float


def index_vectors(conn: Connection) -> tuple[str, list[tuple[bytes, Vectors]]]:
    row = conn.execute("SELECT value FROM meta WHERE key = 'embedder'").fetchone()
    model = str(row[0]) if row else "none"
    if model == "none":
        raise UserInputError(
            "this index has no vectors to push (it was built without an embedder): configure "
            "one (`contextos doctor` says which is in use) and run `contextos index` again"
        )
    out: list[tuple[bytes, Vectors]] = []
    rows = conn.execute(
        "SELECT path, language, start_line, end_line, text, symbol, kind, context, vector"
        " FROM chunks WHERE vector IS NOT NULL ORDER BY id"
    )
    for r in rows:
        chunk = row_chunk(r)
        key = hashlib.sha256(embed_text(chunk).encode("utf-8", "surrogatepass")).digest()
        out.append((key, np.frombuffer(r["vector"], dtype=np.float32)))
    return model, out


def push_vectors(conn: Connection, shared: SharedVectors) -> PushSummary:
    """Push the vectors of the index behind ``conn`` that ``shared`` does not hold yet."""
    started = time.perf_counter()
    model, vectors = index_vectors(conn)
    unique = dict(vectors)
    have = shared.existing(model, list(unique))
    fresh = [(key, vec) for key, vec in unique.items() if key not in have]
    shared.put(model, fresh)
    return PushSummary(model, len(vectors), len(fresh), len(have), time.perf_counter() - started)

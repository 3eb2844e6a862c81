"""Building ``Memory`` values from user or model input, and giving them vectors.

``build_memory`` validates every field (tag, scope, score, non-empty text without NUL) and
keeps secrets out: ``secrets="refuse"`` raises ``UserInputError`` (a person typed it and can fix
it), ``"redact"`` replaces them (bulk ingest and model output, where nobody can be asked) and
drops NUL characters.
``backfill_embeddings`` gives vectors to rows stored without one, or with another model's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Literal

import numpy as np

from contextos.embed.protocol import Embedder
from contextos.errors import UserInputError
from contextos.memory.lexical import keywords
from contextos.memory.records import (
    DEFAULT_TAG,
    Memory,
    check_scope,
    check_score,
    check_tag,
    check_text,
    from_iso,
    now_utc,
    to_utc,
)
from contextos.memory.sql import new_id
from contextos.secrets import redact_memory, refuse_secrets
from contextos.store.db import Connection, bump_generation, transaction

__all__ = ["EMBED_BATCH", "backfill_embeddings", "build_memory", "embed_memories"]

EMBED_BATCH = 256


def build_memory(
    text: str,
    tag: str | None,
    scope: str,
    source: str | None,
    valid_from: datetime | str | None,
    score: int,
    *,
    secrets: Literal["refuse", "redact"] = "refuse",
) -> Memory:
    """A new, validated memory with a fresh id, keywords, and no embedding yet."""
    if not isinstance(text, str) or not text.strip():
        raise UserInputError("empty memory: give the text to remember")
    if secrets == "refuse":
        refuse_secrets(check_text(text, "memory text"))
    else:  # nobody to ask: a NUL character carries nothing in prose, so it goes
        text = redact_memory(text.replace("\x00", ""))
    if isinstance(score, bool) or not isinstance(score, int):
        raise UserInputError(f"invalid score {score!r}: scores are integers from 1 to 5")
    now = now_utc()
    if isinstance(valid_from, str):
        valid_from = from_iso(valid_from)
    return Memory(
        id=new_id(),
        text=text,
        tag=check_tag(tag) if tag is not None else DEFAULT_TAG,
        scope=check_scope(scope),
        source=check_text(source, "source") if source is not None else None,
        score=check_score(score),
        created_at=now,
        valid_from=to_utc(valid_from) if valid_from is not None else now,
        keywords=keywords(text),
    )


def embed_memories(embedder: Embedder | None, memories: Sequence[Memory]) -> list[Memory]:
    if embedder is None or not memories:
        return list(memories)
    out: list[Memory] = []
    for start in range(0, len(memories), EMBED_BATCH):
        batch = memories[start : start + EMBED_BATCH]
        vectors = np.asarray(embedder.embed_batch([m.text for m in batch]), dtype=np.float32)
        out.extend(replace(m, embedding=v) for m, v in zip(batch, vectors, strict=True))
    return out


def backfill_embeddings(conn: Connection, embedder: Embedder) -> int:
    """Embed every row whose vector is missing or from another model; return how many."""
    done = 0
    while True:
        rows = conn.execute(
            "SELECT seq, text FROM memories WHERE (embed_model IS NULL OR embed_model != ?)"
            " AND forgotten_at IS NULL ORDER BY seq LIMIT ?",
            (embedder.name, EMBED_BATCH * 8),
        ).fetchall()
        if not rows:
            return done
        vectors = np.asarray(embedder.embed_batch([r[1] for r in rows]), dtype=np.float32)
        with transaction(conn) as tx:
            tx.executemany(
                "UPDATE memories SET embedding = ?, embed_model = ? WHERE seq = ?",
                [(v.tobytes(), embedder.name, r[0]) for r, v in zip(rows, vectors, strict=True)],
            )
            bump_generation(tx)
        done += len(rows)

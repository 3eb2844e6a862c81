"""Changes to memories inside a caller's transaction: add, supersede, close, forget, history.

These are the only ways a memory changes, and each leaves history rows. ``supersede`` is both
UPDATE (a refined version) and INVALIDATE (a contradiction): the new row is inserted and the old
one closed (``valid_to`` = the new row's ``valid_from``, ``superseded_by`` = its id) in the same
transaction, after checking *inside* it that the old row is still current, so two writers can
never both replace the same version (no lost update: the second gets an error and re-reads).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from contextos.errors import UserInputError
from contextos.memory.records import HistoryEntry, Memory, from_iso, now_utc
from contextos.memory.sql import (
    COLUMNS,
    close_memory,
    insert_memory,
    require,
    row_to_memory,
    set_forgotten,
    visible,
)
from contextos.store.db import Connection, bump_generation

__all__ = ["add", "close", "current", "find_duplicate", "forget", "history", "supersede"]


def add(
    conn: Connection,
    memories: Sequence[Memory],
    *,
    embed_model: str | None,
    action: str = "ADD",
    reason: str,
) -> list[Memory]:
    for memory in memories:
        insert_memory(conn, memory, action=action, reason=reason, embed_model=embed_model)
    if memories:
        bump_generation(conn)
    return list(memories)


def find_duplicate(conn: Connection, text: str, scope: str) -> Memory | None:
    """A current memory of ``scope`` whose text equals ``text`` up to case and spacing."""
    wanted = " ".join(text.split()).casefold()
    where, args = visible(conn)
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM memories WHERE scope = ? AND valid_to IS NULL"
        f" AND forgotten_at IS NULL AND length(text) BETWEEN ? AND ? AND {where}",
        (scope, len(wanted) // 2, len(text) * 2 + 8, *args),
    )
    for row in rows:
        if " ".join(row[2].split()).casefold() == wanted:
            return row_to_memory(row)
    return None


def current(conn: Connection, memory_id: str) -> Memory:
    """The memory ``memory_id`` if it is current; ``UserInputError`` if unknown or replaced."""
    memory = require(conn, memory_id)
    if memory.forgotten_at is not None:
        raise UserInputError(f"memory {memory_id} was forgotten; it cannot be changed")
    if memory.valid_to is not None:
        successor = f" by {memory.superseded_by}" if memory.superseded_by else ""
        raise UserInputError(
            f"memory {memory_id} is no longer current (superseded{successor}); "
            "change the current version instead"
        )
    return memory


def supersede(
    conn: Connection,
    old_id: str,
    new: Memory,
    *,
    action: str,
    reason: str,
    embed_model: str | None,
) -> tuple[Memory, Memory]:
    """Insert ``new`` and close the current memory ``old_id`` in its favour; return both."""
    old = current(conn, old_id)
    insert_memory(conn, new, action=action, reason=reason, embed_model=embed_model)
    closed = close_memory(
        conn, old, valid_to=new.valid_from, superseded_by=new.id, action=action, reason=reason
    )
    bump_generation(conn)
    return closed, new


def close(
    conn: Connection,
    memory_id: str,
    *,
    action: str,
    reason: str,
    superseded_by: str | None = None,
    when: datetime | None = None,
) -> Memory:
    """End a current memory's validity without inserting a successor (drop, merge member)."""
    old = current(conn, memory_id)
    closed = close_memory(
        conn,
        old,
        valid_to=when or now_utc(),
        superseded_by=superseded_by,
        action=action,
        reason=reason,
    )
    bump_generation(conn)
    return closed


def forget(conn: Connection, memory_id: str, reason: str) -> Memory:
    """Mark a memory forgotten (recall never returns it again); idempotent."""
    memory = require(conn, memory_id)
    if memory.forgotten_at is not None:
        return memory
    forgotten = set_forgotten(conn, memory, now_utc(), reason)
    bump_generation(conn)
    return forgotten


def _version_chain(conn: Connection, memory_id: str, limit: int = 1000) -> list[str]:
    where, args = visible(conn)
    seen: dict[str, None] = {}
    todo = [memory_id]
    while todo and len(seen) < limit:
        mid = todo.pop()
        if mid in seen:
            continue
        seen[mid] = None
        for row in conn.execute(
            "SELECT superseded_by FROM memories WHERE id = ? AND superseded_by IS NOT NULL"
            f" AND {where} UNION SELECT id FROM memories WHERE superseded_by = ? AND {where}",
            (mid, *args, mid, *args),
        ):
            todo.append(row[0])
    return list(seen)


def history(conn: Connection, memory_id: str) -> list[HistoryEntry]:
    """History rows of ``memory_id`` and of every version before or after it, oldest first."""
    require(conn, memory_id)
    ids = _version_chain(conn, memory_id)
    marks = ",".join("?" * len(ids))
    rows = conn.execute(
        "SELECT id, ts, kind, target, action, before, after, reason FROM history"
        f" WHERE kind = 'memory' AND target IN ({marks}) ORDER BY id",
        ids,
    )
    return [
        HistoryEntry(
            id=int(r[0]),
            ts=from_iso(r[1]),
            kind=r[2],
            target=r[3],
            action=r[4],
            before=json.loads(r[5]) if r[5] else None,
            after=json.loads(r[6]) if r[6] else None,
            reason=r[7],
        )
        for r in rows
    ]

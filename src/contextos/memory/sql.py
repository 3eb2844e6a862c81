"""SQL for memory rows and the history table: the only place that writes either.

Every function here runs inside a transaction the caller opened (``store.db.transaction``), so a
memory row, its lexical tokens, its history row and the generation bump commit together or not
at all. ``Memory`` values go in and come out; sqlite3 rows never leave this module.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from contextos.errors import UnknownIdError
from contextos.memory.lexical import memory_tokens
from contextos.memory.records import Memory, from_iso, to_iso
from contextos.store.db import Connection

__all__ = [
    "COLUMNS",
    "Scoped",
    "close_memory",
    "fetch",
    "fetch_many",
    "insert_memory",
    "log_change",
    "new_id",
    "require",
    "row_to_memory",
    "set_forgotten",
    "visible",
]

COLUMNS = (
    "id, tag, text, scope, source, score, created_at, valid_from, valid_to, superseded_by,"
    " forgotten_at, keywords, embedding"
)


class Scoped:
    """A memory database connection bound to one user: the only handle the query layer reads
    memories through. ``visible`` puts the user's predicate into every read of ``memories``,
    so another user's ``user``-scoped memories never leave the database; ``project`` and
    ``agent`` memories are shared by everyone with the store. On a personal SQLite store the
    user is ``""`` and every row is theirs."""

    def __init__(self, conn: Connection, owner: str) -> None:
        self.unscoped = conn
        self.owner = owner

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self.unscoped.execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        return self.unscoped.executemany(sql, parameters)

    def close(self) -> None:
        self.unscoped.close()

    @property
    def in_transaction(self) -> bool:
        return self.unscoped.in_transaction


def visible(conn: Connection, table: str = "memories") -> tuple[str, tuple[str]]:
    """The SQL predicate (and its argument) limiting ``table``'s rows to what ``conn``'s user may
    see. A connection not bound to a user is refused: no read of memories goes unscoped."""
    if not isinstance(conn, Scoped):
        raise TypeError("memory rows are read through a user-bound connection (sql.Scoped)")
    return f"({table}.scope <> 'user' OR {table}.owner = ?)", (conn.owner,)


def owner_of(conn: Connection) -> str:
    if not isinstance(conn, Scoped):
        raise TypeError("memory rows are written through a user-bound connection (sql.Scoped)")
    return conn.owner


def new_id() -> str:
    """A short random id (12 hex digits): unique across machines, so imports never clash."""
    return secrets.token_hex(6)


def _opt_time(value: str | None) -> datetime | None:
    return from_iso(value) if value else None


def row_to_memory(row: Sequence[Any]) -> Memory:
    blob = row[12]
    return Memory(
        id=row[0],
        tag=row[1],
        text=row[2],
        scope=row[3],
        source=row[4],
        score=int(row[5]),
        created_at=from_iso(row[6]),
        valid_from=from_iso(row[7]),
        valid_to=_opt_time(row[8]),
        superseded_by=row[9],
        forgotten_at=_opt_time(row[10]),
        keywords=tuple(json.loads(row[11])),
        embedding=np.frombuffer(blob, dtype=np.float32) if blob else None,
    )


def fetch(conn: Connection, memory_id: str) -> Memory | None:
    where, args = visible(conn)
    row = conn.execute(
        f"SELECT {COLUMNS} FROM memories WHERE id = ? AND {where}", (memory_id, *args)
    ).fetchone()
    return row_to_memory(row) if row else None


def require(conn: Connection, memory_id: str) -> Memory:
    """The memory ``memory_id`` or ``UnknownIdError`` (exit 2) naming the unknown id."""
    found = fetch(conn, memory_id)
    if found is None:
        raise UnknownIdError("memory", memory_id, "see `contextos memory list` for ids")
    return found


def fetch_many(conn: Connection, seqs: Sequence[int]) -> dict[int, Memory]:
    """Memories by ``seq`` (the lexical index's integer key)."""
    if not seqs:
        return {}
    marks = ",".join("?" * len(seqs))
    where, args = visible(conn)
    rows = conn.execute(
        f"SELECT seq, {COLUMNS} FROM memories WHERE seq IN ({marks}) AND {where}",
        (*seqs, *args),
    )
    return {int(r[0]): row_to_memory(tuple(r)[1:]) for r in rows}


def log_change(
    conn: Connection,
    kind: str,
    target: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str,
) -> None:
    """Append one row to ``history`` (the table refuses updates and deletes)."""
    conn.execute(
        "INSERT INTO history(kind, target, action, before, after, reason) VALUES (?,?,?,?,?,?)",
        (
            kind,
            target,
            action,
            json.dumps(before, sort_keys=True) if before is not None else None,
            json.dumps(after, sort_keys=True) if after is not None else None,
            reason,
        ),
    )


def insert_memory(
    conn: Connection,
    memory: Memory,
    *,
    action: str,
    reason: str,
    embed_model: str | None,
    log: bool = True,
) -> int:
    """Insert ``memory`` with its lexical tokens (and a history row); return its ``seq``."""
    vector = memory.embedding
    cur = conn.execute(
        "INSERT INTO memories(id, tag, text, scope, source, score, created_at, valid_from,"
        " valid_to, superseded_by, forgotten_at, keywords, embedding, embed_model, owner)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            memory.id,
            memory.tag,
            memory.text,
            memory.scope,
            memory.source,
            memory.score,
            to_iso(memory.created_at),
            to_iso(memory.valid_from),
            to_iso(memory.valid_to) if memory.valid_to else None,
            memory.superseded_by,
            to_iso(memory.forgotten_at) if memory.forgotten_at else None,
            json.dumps(list(memory.keywords)),
            vector.astype(np.float32).tobytes() if vector is not None else None,
            embed_model if vector is not None else None,
            owner_of(conn),
        ),
    )
    seq = int(cur.lastrowid or 0)
    names = " ".join(memory_tokens(" ".join((memory.tag, *memory.keywords))))
    conn.execute(
        "INSERT INTO memories_fts(rowid, body, names) VALUES (?,?,?)",
        (seq, " ".join(memory_tokens(memory.text)), names),
    )
    if log:
        log_change(conn, "memory", memory.id, action, None, memory.to_dict(), reason)
    return seq


def close_memory(
    conn: Connection,
    old: Memory,
    *,
    valid_to: datetime,
    superseded_by: str | None,
    action: str,
    reason: str,
) -> Memory:
    """End ``old``'s validity at ``valid_to`` (never before it began); return the closed row."""
    end = max(valid_to, old.valid_from)
    conn.execute(
        "UPDATE memories SET valid_to = ?, superseded_by = ? WHERE id = ?",
        (to_iso(end), superseded_by, old.id),
    )
    closed = fetch(conn, old.id)
    assert closed is not None
    log_change(conn, "memory", old.id, action, old.to_dict(), closed.to_dict(), reason)
    return closed


def set_forgotten(conn: Connection, old: Memory, when: datetime, reason: str) -> Memory:
    conn.execute("UPDATE memories SET forgotten_at = ? WHERE id = ?", (to_iso(when), old.id))
    forgotten = fetch(conn, old.id)
    assert forgotten is not None
    log_change(conn, "memory", old.id, "FORGET", old.to_dict(), forgotten.to_dict(), reason)
    return forgotten

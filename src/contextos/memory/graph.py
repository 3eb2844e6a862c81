"""Entity–relation edges and key–value facts, stored next to the memories.

Edges say ``subject --predicate--> object`` over a validity interval; facts map a key to one
current value per scope (a unique partial index enforces it, so concurrent writers cannot both
install a value; a ``user``-scoped key has one value per user). Changing a fact closes the old
value (``valid_to``) and inserts the new one; nothing is deleted, and every change is a history
row (kind ``edge`` or ``fact``). Rows carry their owner and are read through ``sql.visible``, as
memories are. Functions take a ``MemoryStore`` and write in its transactions. Left out: graph
traversal queries beyond "edges touching this entity" (the memory text carries the rest).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from contextos.errors import UserInputError
from contextos.memory.records import Edge, Fact, check_scope, from_iso, now_utc, to_iso, to_utc
from contextos.memory.sql import log_change, owner_of, visible
from contextos.memory.store import MemoryStore

__all__ = ["edges", "fact", "relate", "set_fact", "unrelate"]

_EDGE_COLS = "id, subject, predicate, object, scope, source, created_at, valid_from, valid_to"
_FACT_COLS = "id, key, value, scope, source, created_at, valid_from, valid_to"
_VALID_AT = "valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)"


def _times(row: Sequence[Any], at: int) -> tuple[datetime, datetime, datetime | None]:
    end = row[at + 2]
    return from_iso(row[at]), from_iso(row[at + 1]), from_iso(end) if end else None


def _edge(row: Sequence[Any]) -> Edge:
    return Edge(int(row[0]), row[1], row[2], row[3], row[4], row[5], *_times(row, 6))


def _fact(row: Sequence[Any]) -> Fact:
    return Fact(int(row[0]), row[1], row[2], row[3], row[4], *_times(row, 5))


def _json(value: Edge | Fact) -> dict[str, Any]:
    return {k: to_iso(v) if isinstance(v, datetime) else v for k, v in asdict(value).items()}


def _clean(name: str, value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise UserInputError(f"empty {name}")
    return value


def relate(
    store: MemoryStore,
    subject: str,
    predicate: str,
    obj: str,
    *,
    scope: str = "user",
    source: str | None = None,
    valid_from: datetime | None = None,
) -> Edge:
    """Add an edge; an identical current edge is returned instead of duplicated."""
    parts = [_clean("subject", subject), _clean("predicate", predicate), _clean("object", obj)]
    check_scope(scope)
    now = to_iso(now_utc())
    start = to_iso(valid_from) if valid_from is not None else now
    with store.transaction() as conn:
        mine, me = visible(conn, "edges")
        row = conn.execute(
            f"SELECT {_EDGE_COLS} FROM edges WHERE subject = ? AND predicate = ? AND object = ?"
            f" AND scope = ? AND valid_to IS NULL AND {mine}",
            (*parts, scope, *me),
        ).fetchone()
        if row is not None:
            return _edge(row)
        cur = conn.execute(
            "INSERT INTO edges(subject, predicate, object, scope, source, created_at, valid_from,"
            " owner) VALUES (?,?,?,?,?,?,?,?)",
            (*parts, scope, source, now, start, owner_of(conn)),
        )
        row = conn.execute(f"SELECT {_EDGE_COLS} FROM edges WHERE id = ?", (cur.lastrowid,))
        edge = _edge(row.fetchone())
        log_change(conn, "edge", str(edge.id), "ADD", None, _json(edge), "related")
    return edge


def unrelate(store: MemoryStore, edge_id: int, *, reason: str = "no longer true") -> Edge:
    """Close a current edge (it stays queryable with ``as_of``)."""
    with store.transaction() as conn:
        mine, me = visible(conn, "edges")
        row = conn.execute(
            f"SELECT {_EDGE_COLS} FROM edges WHERE id = ? AND {mine}", (edge_id, *me)
        ).fetchone()
        if row is None or row[8] is not None:
            raise UserInputError(f"no current edge with id {edge_id}")
        before = _edge(row)
        conn.execute("UPDATE edges SET valid_to = ? WHERE id = ?", (to_iso(now_utc()), edge_id))
        after = _edge(
            conn.execute(f"SELECT {_EDGE_COLS} FROM edges WHERE id = ?", (edge_id,)).fetchone()
        )
        log_change(conn, "edge", str(edge_id), "INVALIDATE", _json(before), _json(after), reason)
    return after


def edges(
    store: MemoryStore, entity: str | None = None, *, as_of: datetime | None = None
) -> list[Edge]:
    """Edges valid at ``as_of`` (default now), those touching ``entity`` if given."""
    at = to_iso(to_utc(as_of) if as_of is not None else now_utc())
    mine, me = visible(store.connection, "edges")
    sql = f"SELECT {_EDGE_COLS} FROM edges WHERE {_VALID_AT} AND {mine}"
    args: list[str] = [at, at, *me]
    if entity is not None:
        sql += " AND (subject = ? OR object = ?)"
        args += [entity, entity]
    return [_edge(r) for r in store.connection.execute(sql + " ORDER BY id", args)]


def set_fact(
    store: MemoryStore,
    key: str,
    value: str,
    *,
    scope: str = "user",
    source: str | None = None,
    valid_from: datetime | None = None,
) -> Fact:
    """Make ``value`` the current value of ``key``, closing the previous one."""
    key, value = _clean("key", key), value.strip()
    check_scope(scope)
    now = now_utc()
    start = to_utc(valid_from) if valid_from is not None else now
    with store.transaction() as conn:
        mine, me = visible(conn, "facts")
        row = conn.execute(
            f"SELECT {_FACT_COLS} FROM facts WHERE key = ? AND scope = ? AND valid_to IS NULL"
            f" AND {mine}",
            (key, scope, *me),
        ).fetchone()
        before = _fact(row) if row is not None else None
        if before is not None and before.value == value:
            return before
        if before is not None:
            end = to_iso(max(start, before.valid_from))
            conn.execute("UPDATE facts SET valid_to = ? WHERE id = ?", (end, before.id))
        cur = conn.execute(
            "INSERT INTO facts(key, value, scope, source, created_at, valid_from, owner)"
            " VALUES (?,?,?,?,?,?,?)",
            (key, value, scope, source, to_iso(now), to_iso(start), owner_of(conn)),
        )
        new_row = conn.execute(f"SELECT {_FACT_COLS} FROM facts WHERE id = ?", (cur.lastrowid,))
        after = _fact(new_row.fetchone())
        action = "UPDATE" if before is not None else "ADD"
        log_change(
            conn, "fact", key, action, _json(before) if before else None, _json(after), "set"
        )
    return after


def fact(
    store: MemoryStore, key: str, *, scope: str = "user", as_of: datetime | None = None
) -> Fact | None:
    """The value of ``key`` at ``as_of`` (default now), or None."""
    at = to_iso(to_utc(as_of) if as_of is not None else now_utc())
    mine, me = visible(store.connection, "facts")
    row = store.connection.execute(
        f"SELECT {_FACT_COLS} FROM facts WHERE key = ? AND scope = ? AND {_VALID_AT}"
        f" AND {mine} ORDER BY valid_from DESC LIMIT 1",
        (key, scope, at, at, *me),
    ).fetchone()
    return _fact(row) if row is not None else None

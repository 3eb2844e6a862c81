"""``SessionStore``: the full history of agent sessions, in one SQLite file.

Events are appended and never changed or deleted (the schema's triggers refuse it), so
compaction can only change what is *packed*: masking rewrites events on their way into layers,
a summary is stored beside the events it covers. Sessions are named by the caller (``--session
ID``); the first event creates the session. Left out: sharing sessions between machines.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from contextos.context.schema import MIGRATIONS
from contextos.errors import UserInputError
from contextos.home import sessions_db_path
from contextos.store.db import Closing, Connection, connect, transaction

__all__ = ["Compaction", "Event", "EventRole", "SessionStore", "check_session_id"]

EventRole = Literal["user", "assistant", "tool"]
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_session_id(session_id: str) -> str:
    if not _ID.match(session_id):
        raise UserInputError(
            f"invalid session id {session_id!r}: use 1-128 letters, digits, '.', '_' or '-'"
        )
    return session_id


@dataclass(frozen=True, slots=True)
class Event:
    """One step of a session. An assistant event with ``tool`` set is a tool call; a ``tool``
    event is the result of the call before it (``ok`` False when it failed)."""

    seq: int
    role: EventRole
    content: str
    tool: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    ok: bool | None = None
    ts: str = ""


@dataclass(frozen=True, slots=True)
class Compaction:
    """A stored summary (``kind='summary'``, JSON of ``CompactionSummary``) or handoff prompt."""

    session_id: str
    kind: Literal["summary", "handoff"]
    upto_seq: int
    content: str
    model: str | None


class SessionStore(Closing):
    """Open with ``SessionStore.open()``; use as a context manager or call ``close()``."""

    def __init__(self, conn: Connection, path: Path | str) -> None:
        self._conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path | None = None, *, database_url: str | None = None) -> SessionStore:
        """Open (creating and migrating) the store: the PostgreSQL database ``database_url``
        (default the ``database_url`` setting) when set and no ``path`` is given, else the
        SQLite file ``path`` (default ``home.sessions_db_path()``)."""
        from contextos.store.backends import open_pg, team_url

        url = team_url(path, database_url)
        if url:
            conn = open_pg(url, "sessions")
            return cls(conn, conn.schema)
        target = path if path is not None else sessions_db_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        return cls(connect(target, MIGRATIONS), target)

    def close(self) -> None:
        self._conn.close()

    def append(
        self,
        session_id: str,
        role: EventRole,
        content: str,
        *,
        tool: str | None = None,
        args: dict[str, Any] | None = None,
        ok: bool | None = None,
        parent: str | None = None,
    ) -> Event:
        """Append one event (creating the session, with ``parent`` if new) and return it.

        A NUL character in ``content`` (a tool's binary output) is stored as U+FFFD on both
        backends: PostgreSQL text cannot hold NUL, and a session must read the same on both."""
        check_session_id(session_id)
        if role not in ("user", "assistant", "tool"):
            raise UserInputError(f"unknown event role {role!r}: use user, assistant or tool")
        content = content.replace("\x00", "\ufffd")
        with transaction(self._conn) as conn:
            conn.execute(
                "INSERT OR IGNORE INTO sessions(id, parent) VALUES (?, ?)", (session_id, parent)
            )
            row = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE session_id = ?", (session_id,)
            ).fetchone()
            seq = int(row[0])
            conn.execute(
                "INSERT INTO events(session_id, seq, role, content, tool, args, ok)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id,
                    seq,
                    role,
                    content,
                    tool,
                    json.dumps(args or {}),
                    None if ok is None else int(ok),
                ),
            )
        return Event(seq, role, content, tool, dict(args or {}), ok)

    def exists(self, session_id: str) -> bool:
        row = self._conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return row is not None

    def parent(self, session_id: str) -> str | None:
        row = self._conn.execute(
            "SELECT parent FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        return None if row is None else row[0]

    def events(self, session_id: str, *, after: int = 0) -> list[Event]:
        """Every event of the session after ``seq`` ``after``, oldest first."""
        rows = self._conn.execute(
            "SELECT seq, role, content, tool, args, ok, ts FROM events"
            " WHERE session_id = ? AND seq > ? ORDER BY seq",
            (check_session_id(session_id), after),
        ).fetchall()
        return [
            Event(
                r["seq"],
                r["role"],
                r["content"],
                r["tool"],
                json.loads(r["args"] or "{}"),
                None if r["ok"] is None else bool(r["ok"]),
                r["ts"],
            )
            for r in rows
        ]

    def save_compaction(self, compaction: Compaction) -> None:
        with transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO compactions(session_id, kind, upto_seq, content, model)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    compaction.session_id,
                    compaction.kind,
                    compaction.upto_seq,
                    compaction.content,
                    compaction.model,
                ),
            )

    def latest_compaction(
        self, session_id: str, kind: Literal["summary", "handoff"] = "summary"
    ) -> Compaction | None:
        row = self._conn.execute(
            "SELECT kind, upto_seq, content, model FROM compactions"
            " WHERE session_id = ? AND kind = ? ORDER BY id DESC LIMIT 1",
            (session_id, kind),
        ).fetchone()
        if row is None:
            return None
        return Compaction(session_id, row["kind"], row["upto_seq"], row["content"], row["model"])

"""Numbered migrations of the session database (``$CONTEXTOS_HOME/sessions.db``).

Tables:
- ``sessions``: one row per session id; ``parent`` names the session a handoff came from.
- ``events``: the full history, append-only (triggers refuse UPDATE and DELETE). One row per
  user message, assistant message or tool call (``tool`` + JSON ``args``), or tool result
  (``role = 'tool'``, ``ok``). ``seq`` numbers a session's events from 1.
- ``compactions``: structured summaries and handoff prompts. A summary covers the events up to
  ``upto_seq``; packing uses the latest one in place of those events, which stay stored.
"""

from __future__ import annotations

from contextos.store.db import Connection, PortableMigration, ddl_script
from contextos.store.pg import SQLITE_NOW, Dialect, PgMigration

__all__ = ["DIALECT", "MIGRATIONS", "PG_MIGRATIONS"]

_NOW = SQLITE_NOW


def m001_sessions(conn: Connection) -> None:
    """Sessions, their append-only events, and compactions (summaries and handoffs)."""
    statements = f"""
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL DEFAULT {_NOW},
            parent TEXT REFERENCES sessions(id)
        );
        CREATE TABLE events (
            session_id TEXT NOT NULL REFERENCES sessions(id),
            seq INTEGER NOT NULL,
            ts TEXT NOT NULL DEFAULT {_NOW},
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
            content TEXT NOT NULL,
            tool TEXT,
            args TEXT,
            ok INTEGER CHECK (ok IN (0, 1)),
            PRIMARY KEY (session_id, seq)
        );
        CREATE TRIGGER events_never_updated BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'session history is append-only'); END;
        CREATE TRIGGER events_never_deleted BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'session history is append-only'); END;
        CREATE TABLE compactions (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            kind TEXT NOT NULL CHECK (kind IN ('summary', 'handoff')),
            upto_seq INTEGER NOT NULL,
            content TEXT NOT NULL,
            model TEXT,
            created_at TEXT NOT NULL DEFAULT {_NOW}
        );
        CREATE INDEX compactions_session ON compactions(session_id, kind, id);
    """
    ddl_script(conn, statements)


MIGRATIONS: list[PortableMigration] = [m001_sessions]

# PostgreSQL runs the same migration: ``store.db.ddl`` rewrites each statement.
PG_MIGRATIONS: list[PgMigration] = list(MIGRATIONS)

DIALECT = Dialect(keys={"sessions": ("id",)}, serial={"compactions": "id"})

if __name__ == "__main__":
    from contextos.store.docs import schema_markdown

    print(schema_markdown("Session database schema", MIGRATIONS))

"""Numbered migrations of the memory database (``$CONTEXTOS_HOME/memory.db``).

Tables:
- ``memories``: one row per memory *version*. Rows are never deleted (a trigger refuses it):
  an update or a contradiction closes the old row (``valid_to``, ``superseded_by``), ``forget``
  sets ``forgotten_at``. ``seq`` is the integer key the lexical index uses.
- ``memories_fts``: stemmed tokens of each row (``body``: text, ``names``: tag and keywords),
  rowid = ``memories.seq``; written in the same transaction as the row.
- ``edges`` (subject, predicate, object, validity) and ``facts`` (key → value, at most one
  current value per scope and key) live next to the memories.
- ``history``: append-only (triggers refuse UPDATE and DELETE); one row per change with the
  before/after JSON and the reason.
- ``jobs``: the extraction queue. A transcript window is stored here *before* any model call,
  so a failure or a crash never loses it; ``key`` makes enqueueing idempotent.
- ``meta``: ``generation`` (bumped by every write that changes what recall sees) and
  ``embed_model`` (the embedder the stored vectors came from).
"""

from __future__ import annotations

from contextos.store.db import Connection, PortableMigration, ddl, ddl_script
from contextos.store.pg import SQLITE_NOW, Dialect, PgMigration

__all__ = ["DIALECT", "MIGRATIONS", "PG_MIGRATIONS"]

_TOKENIZER = "\"unicode61 remove_diacritics 0 tokenchars '_'\""
_NOW = SQLITE_NOW


_M001 = f"""
CREATE TABLE memories (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    tag TEXT NOT NULL,
    text TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('user', 'project', 'agent')),
    source TEXT,
    score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    created_at TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    superseded_by TEXT,
    forgotten_at TEXT,
    keywords TEXT NOT NULL DEFAULT '[]',
    embedding BLOB,
    embed_model TEXT
);
CREATE INDEX memories_current ON memories(scope, tag)
    WHERE valid_to IS NULL AND forgotten_at IS NULL;
CREATE INDEX memories_tag ON memories(tag);
CREATE VIRTUAL TABLE memories_fts USING fts5(body, names, tokenize = {_TOKENIZER});
CREATE TRIGGER memories_never_deleted BEFORE DELETE ON memories
    BEGIN SELECT RAISE(ABORT, 'memories are never deleted: invalidate or forget'); END;
CREATE TABLE edges (
    id INTEGER PRIMARY KEY,
    subject TEXT NOT NULL,
    predicate TEXT NOT NULL,
    object TEXT NOT NULL,
    scope TEXT NOT NULL,
    source TEXT,
    created_at TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT
);
CREATE INDEX edges_subject ON edges(subject, predicate);
CREATE INDEX edges_object ON edges(object);
CREATE TABLE facts (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    scope TEXT NOT NULL,
    source TEXT,
    created_at TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT
);
CREATE UNIQUE INDEX facts_current ON facts(scope, key) WHERE valid_to IS NULL;
CREATE TABLE history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL DEFAULT {_NOW},
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    action TEXT NOT NULL,
    before TEXT,
    after TEXT,
    reason TEXT NOT NULL
);
CREATE INDEX history_target ON history(kind, target);
CREATE TRIGGER history_no_update BEFORE UPDATE ON history
    BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER history_no_delete BEFORE DELETE ON history
    BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    conversation TEXT,
    turn INTEGER,
    messages TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    raw_output TEXT,
    outcome TEXT,
    created_at TEXT NOT NULL DEFAULT {_NOW},
    updated_at TEXT NOT NULL DEFAULT {_NOW}
);
CREATE INDEX jobs_open ON jobs(id) WHERE status != 'done';
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta(key, value) VALUES ('generation', '0');
"""


def m001_memory(conn: Connection) -> None:
    """Memories, their FTS tokens, edges, facts, append-only history, jobs and meta."""
    ddl_script(conn, _M001)


def m002_owner(conn: Connection) -> None:
    """``owner``: the user a row belongs to (``""`` on a personal store). ``user``-scoped rows
    are read only by their owner (``sql.visible``); other scopes are shared."""
    for table in ("memories", "edges", "facts"):
        ddl(conn, f"ALTER TABLE {table} ADD COLUMN owner TEXT NOT NULL DEFAULT ''")
    ddl(conn, "CREATE INDEX memories_owner ON memories(owner, scope)")


_FACTS_PER_OWNER = (
    "CREATE UNIQUE INDEX facts_current ON facts(scope, (CASE WHEN scope = 'user' THEN owner"
    " ELSE '' END), key) WHERE valid_to IS NULL"
)


def m003_facts_per_owner(conn: Connection) -> None:
    """One current value per key and scope, and per user for ``user``-scoped keys."""
    ddl(conn, "DROP INDEX facts_current")
    ddl(conn, _FACTS_PER_OWNER)


MIGRATIONS: tuple[PortableMigration, ...] = (m001_memory, m002_owner, m003_facts_per_owner)

# PostgreSQL runs the same migrations: ``store.db.ddl`` rewrites each statement
# (``store.pg.pg_ddl``), so the schema is written once for both backends.
PG_MIGRATIONS: tuple[PgMigration, ...] = MIGRATIONS

DIALECT = Dialect(
    keys={"meta": ("key",)},
    serial={"memories": "seq", "edges": "id", "facts": "id", "history": "id", "jobs": "id"},
)

if __name__ == "__main__":
    from contextos.store.docs import schema_markdown

    print(schema_markdown("Memory database schema", MIGRATIONS))

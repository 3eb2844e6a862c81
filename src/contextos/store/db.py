"""SQLite connections: WAL, busy timeout, migrations on open, transactions, error wrapping.

Every write goes through ``transaction`` so it is atomic: a process killed mid-write leaves the
database as it was before the transaction. ``sqlite3.Error`` is wrapped in ``StoreError`` here and
in ``transaction``; callers above the store never see sqlite3 exceptions.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from contextos.errors import StoreError

__all__ = ["Closing", "Migration", "bump_generation", "connect", "generation", "transaction"]

Migration = Callable[[sqlite3.Connection], None]


def connect(
    path: Path, migrations: Sequence[Migration], *, readonly: bool = False
) -> sqlite3.Connection:
    """Open (creating if needed) the database at ``path`` and apply pending ``migrations``.

    Migration *n* (1-based position in the list) is applied once, in its own transaction, and
    recorded in ``schema_migrations``. A database written by a newer contextos (more migrations
    than we know) is refused rather than silently misread.
    """
    try:
        conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        _migrate(conn, migrations)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from exc
    return conn


def _migrate(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
    )
    row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
    current = int(row[0])
    if current > len(migrations):
        raise StoreError(
            f"database schema version {current} is newer than this contextos knows "
            f"({len(migrations)}); upgrade contextos"
        )
    for version, migration in enumerate(migrations, start=1):
        if version <= current:
            continue
        with transaction(conn, immediate=True):
            again = conn.execute(
                "SELECT 1 FROM schema_migrations WHERE version = ?", (version,)
            ).fetchone()
            if again:  # another process migrated while we waited for the lock
                continue
            migration(conn)
            conn.execute(
                "INSERT INTO schema_migrations(version, name) VALUES (?, ?)",
                (version, migration.__name__),
            )


@contextmanager
def transaction(
    conn: sqlite3.Connection, *, immediate: bool = True
) -> Iterator[sqlite3.Connection]:
    """Run a block in one transaction; commit on success, roll back on any exception."""
    try:
        conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    except sqlite3.Error as exc:
        raise StoreError(f"cannot start a transaction: {exc}") from exc
    try:
        yield conn
    except sqlite3.Error as exc:
        conn.execute("ROLLBACK")
        raise StoreError(f"database write failed: {exc}") from exc
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        conn.execute("ROLLBACK")
        raise StoreError(f"cannot commit: {exc}") from exc


def generation(conn: sqlite3.Connection) -> int:
    """The database's write generation (``meta.generation``; 0 before the first write).

    Every write that changes what readers see bumps it in the same transaction, so a reader
    compares one integer to know whether its in-memory snapshot is stale.
    """
    row = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    return int(row[0]) if row else 0


def bump_generation(conn: sqlite3.Connection) -> None:
    """Call inside the write transaction that changed what readers see."""
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('generation', '1') ON CONFLICT(key)"
        " DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
    )


class Closing:
    """``with`` support for anything with a ``close()``: stores, workspaces, sessions."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

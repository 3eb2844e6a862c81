"""SQLite connections: WAL, busy timeout, migrations on open, transactions, error wrapping.

Every write goes through ``transaction`` so it is atomic: a process killed mid-write leaves the
database as it was before the transaction. ``sqlite3.Error`` is wrapped in ``StoreError`` here and
in ``transaction``; callers above the store never see sqlite3 exceptions for what the user can
meet and fix: a full disk, a read-only file or directory, a database that cannot be opened, a
damaged (corrupt) file. Connections made by ``connect`` translate those at every statement and
every row fetched, so a damaged page found by a query deep in ``search`` still ends in one line
that says what to do (``contextos doctor --rebuild``).

What is checked on open is what costs nothing: a directory where the database or one of its
side files should be, the file header (SQLite refuses "file is not a database") and the schema
(read by the migration step). ``PRAGMA quick_check`` reads the whole file (0.1 s for a 100 MB
index with a warm cache, more from a cold disk), so it is ``integrity_problem``'s job, for
``contextos doctor``, not every command's.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, Protocol, Self

from contextos.errors import StoreError
from contextos.store.pg import PgDatabase, pg_ddl

__all__ = [
    "Closing",
    "Connection",
    "Migration",
    "PortableMigration",
    "apply_pending",
    "bump_generation",
    "connect",
    "ddl",
    "ddl_script",
    "explain",
    "generation",
    "integrity_problem",
    "rows_in",
    "transaction",
]

Migration = Callable[[sqlite3.Connection], None]


PortableMigration = Callable[["Connection"], None]
"""A migration written for both backends (its statements through ``ddl``)."""


class Cursor(Protocol):
    """What the stores read from a statement, on SQLite and on PostgreSQL (``store.pg``)."""

    @property
    def lastrowid(self) -> int | None: ...
    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A store's database: a SQLite connection (``connect``) or a PostgreSQL schema
    (``store.pg.PgDatabase``). Statements are written once, in SQLite's dialect."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...
    def executemany(self, sql: str, parameters: Any, /) -> Cursor: ...
    def close(self) -> None: ...
    @property
    def in_transaction(self) -> bool: ...


SIDE_FILES = ("-wal", "-shm", "-journal", ".lock")
"""Files SQLite (and the indexer's lock) keep next to a database: ``<name><suffix>``."""


def explain(exc: sqlite3.Error, path: Path | None) -> StoreError | None:
    """A ``StoreError`` saying what to do for the failures a user can meet (full disk, read-only,
    cannot open, I/O error, damaged file); ``None`` for the others (constraints, bugs)."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    where = str(path) if path is not None else "the database"
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        text = f"{where} is damaged ({exc}): run `contextos doctor --rebuild`"
    elif primary == sqlite3.SQLITE_FULL:
        text = (
            f"the disk holding {where} is full ({exc}): free some space and run the command "
            "again; what was saved before is intact"
        )
    elif primary == sqlite3.SQLITE_READONLY:
        text = (
            f"cannot write {where} ({exc}): make it and its directory writable, or set "
            "CONTEXTOS_HOME to a writable directory"
        )
    elif primary == sqlite3.SQLITE_CANTOPEN:
        text = (
            f"cannot open {where} ({exc}): its directory must exist and be writable "
            "(CONTEXTOS_HOME); `contextos doctor` checks it"
        )
    elif primary == sqlite3.SQLITE_IOERR:
        text = (
            f"disk I/O error on {where} ({exc}): the disk may be full or failing; free some "
            "space, then run `contextos doctor`"
        )
    else:
        return None
    return StoreError(text)


def _reraise(exc: sqlite3.Error, path: Path | None) -> NoReturn:
    error = explain(exc, path)
    if error is None:
        raise exc
    raise error from exc


class _Cursor(sqlite3.Cursor):
    """A cursor whose statements and fetches raise ``explain``'s ``StoreError``."""

    def _fail(self, exc: sqlite3.Error) -> NoReturn:
        _reraise(exc, getattr(self.connection, "path", None))

    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        try:
            return super().execute(sql, parameters)
        except sqlite3.Error as exc:
            self._fail(exc)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Self:
        try:
            return super().executemany(sql, seq_of_parameters)
        except sqlite3.Error as exc:
            self._fail(exc)

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        try:
            return super().executescript(sql_script)
        except sqlite3.Error as exc:
            self._fail(exc)

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.Error as exc:
            self._fail(exc)

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        try:
            return super().fetchmany(size)
        except sqlite3.Error as exc:
            self._fail(exc)

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.Error as exc:
            self._fail(exc)

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.Error as exc:
            self._fail(exc)


class _Connection(sqlite3.Connection):
    """A connection that knows its file and hands out ``_Cursor``s."""

    path: Path | None = None

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        return self.cursor(_Cursor).execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        return self.cursor(_Cursor).executemany(sql, parameters)

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        return self.cursor(_Cursor).executescript(sql_script)


def ddl(conn: Connection, statement: str) -> None:
    """Run one statement of a migration, written in SQLite's dialect, on either backend
    (``store.pg.pg_ddl`` rewrites it for PostgreSQL): one schema text for both."""
    if isinstance(conn, PgDatabase):
        for pg_statement in pg_ddl(statement):
            conn.execute(pg_statement)
    else:
        conn.execute(statement)


def ddl_script(conn: Connection, script: str) -> None:
    """Run each statement of a migration script through ``ddl``, one by one (``executescript``
    would commit the open transaction); a trigger body's inner ``;`` stays with its trigger."""
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n;"):
                ddl(conn, buffer.strip())
            buffer = ""


def rows_in(
    conn: Connection, sql: str, keys: Sequence[Any], *, args: Sequence[Any] = (), size: int = 500
) -> Iterator[Any]:
    """The rows of ``sql`` for every one of ``keys``: its ``{marks}`` is an ``IN`` list filled
    ``size`` keys at a time (SQLite's bound-parameter limit), after the parameters ``args``."""
    for start in range(0, len(keys), size):
        part = keys[start : start + size]
        yield from conn.execute(sql.format(marks=",".join("?" * len(part))), (*args, *part))


def _refuse_directories(path: Path) -> None:
    for suffix in ("", *SIDE_FILES):
        side = path.with_name(path.name + suffix)
        try:
            is_dir = side.is_dir()
        except OSError as exc:
            raise StoreError(f"cannot open database {path}: {exc.strerror or exc}") from exc
        if is_dir:
            what = "the database" if not suffix else f"its {suffix.lstrip('-.')} file"
            raise StoreError(
                f"{side} is a directory where {what} should be: move it away and run the "
                "command again"
            )


def connect(
    path: Path, migrations: Sequence[Migration], *, readonly: bool = False
) -> sqlite3.Connection:
    """Open (creating if needed) the database at ``path`` and apply pending ``migrations``.

    Migration *n* (1-based position in the list) is applied once, in its own transaction, and
    recorded in ``schema_migrations``. A database written by a newer contextos (more migrations
    than we know) is refused rather than silently misread. Every failure is a ``StoreError``.
    """
    _refuse_directories(path)
    conn: _Connection | None = None
    try:
        conn = sqlite3.connect(
            path, timeout=30.0, isolation_level=None, check_same_thread=False, factory=_Connection
        )
        conn.path = path
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        if not readonly:
            _set_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        _migrate(conn, migrations)
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise explain(exc, path) or StoreError(f"cannot open database {path}: {exc}") from exc
    except BaseException:
        if conn is not None:
            conn.close()
        raise
    return conn


def _set_wal(conn: sqlite3.Connection, attempts: int = 50) -> None:
    """Switch to WAL. Two processes opening a brand-new database race for this switch, and
    SQLite answers "database is locked" at once instead of waiting (the busy timeout does not
    cover a journal-mode change), so the loser retries for up to ~5 s."""
    for attempt in range(attempts):
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.1)


def _migrate(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
    )
    row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
    apply_pending(conn, migrations, int(row[0]), "database schema")


def apply_pending(
    conn: Connection, migrations: Sequence[Callable[[Any], None]], current: int, what: str
) -> None:
    """Apply ``migrations`` after version ``current``, each in its own write transaction and
    recorded in ``schema_migrations`` (SQLite files and PostgreSQL schemas alike). A schema
    newer than the list is refused rather than misread."""
    if current > len(migrations):
        raise StoreError(
            f"{what} version {current} is newer than this contextos knows "
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


def _path(conn: sqlite3.Connection) -> Path | None:
    return getattr(conn, "path", None)


def _run(conn: sqlite3.Connection, sql: str, doing: str) -> None:
    try:
        conn.execute(sql)
    except sqlite3.Error as exc:
        raise explain(exc, _path(conn)) or StoreError(f"{doing}: {exc}") from exc


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open. SQLite has already rolled back after some
    failures (a full disk, an I/O error); a failing ROLLBACK must not hide the error that
    caused it, so its own error is dropped: the caller raises the cause."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error, StoreError):
            conn.execute("ROLLBACK")


@contextmanager
def transaction(conn: Connection, *, immediate: bool = True) -> Iterator[Connection]:
    """Run a block in one transaction; commit on success, roll back on any exception.

    The error raised is the one that ended the transaction (``StoreError`` for SQLite's),
    never a secondary one from the rollback. On PostgreSQL ``immediate`` takes the store's
    write lock, as ``BEGIN IMMEDIATE`` does on SQLite.
    """
    inner = getattr(conn, "unscoped", None)
    if inner is not None:  # a connection bound to one user (memory.sql.Scoped)
        with transaction(inner, immediate=immediate):
            yield conn
        return
    if isinstance(conn, PgDatabase):
        with conn.transaction(immediate=immediate):
            yield conn
        return
    assert isinstance(conn, sqlite3.Connection)
    _run(conn, "BEGIN IMMEDIATE" if immediate else "BEGIN", "cannot start a transaction")
    try:
        yield conn
        _run(conn, "COMMIT", "cannot commit")
    except sqlite3.Error as exc:
        _rollback(conn)
        raise explain(exc, _path(conn)) or StoreError(f"database write failed: {exc}") from exc
    except BaseException:
        _rollback(conn)
        raise


def integrity_problem(path: Path) -> str | None:
    """What is wrong with the database file at ``path`` (``None``: nothing).

    Reads every page (``PRAGMA quick_check``) through a read-only connection: it never writes,
    never migrates. O(file size): for ``contextos doctor``, not for every open.
    """
    try:
        _refuse_directories(path)
    except StoreError as exc:
        return str(exc)
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = conn.execute("PRAGMA quick_check(100)").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return str(exc)
    lines = [line for row in rows for line in str(row[0]).splitlines()]
    problems = [line for line in lines if line != "ok" and not line.startswith("***")]
    if not problems:
        return None
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"damaged: {problems[0]}{more}"


def generation(conn: Connection) -> int:
    """The database's write generation (``meta.generation``; 0 before the first write).

    Every write that changes what readers see bumps it in the same transaction, so a reader
    compares one integer to know whether its in-memory snapshot is stale.
    """
    row = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    return int(row[0]) if row else 0


def bump_generation(conn: Connection) -> None:
    """Call inside the write transaction that changed what readers see."""
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('generation', '1') ON CONFLICT(key)"
        " DO UPDATE SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)"
    )


class Closing:
    """``with`` support for anything with a ``close()``: stores, workspaces, sessions."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

"""PostgreSQL behind the same connection surface as the SQLite stores (the team backend).

The stores above speak one SQL dialect: SQLite's, with ``?`` parameters. ``PgDatabase`` takes
those statements unchanged and rewrites them once (cached) for PostgreSQL, so the engine above
the store has no second code path:

- ``?`` → ``%s`` outside string literals, every ``%`` doubled;
- ``INSERT OR IGNORE`` → ``INSERT … ON CONFLICT DO NOTHING``; ``INSERT OR REPLACE`` → ``INSERT …
  ON CONFLICT (key) DO UPDATE`` with the table's key from ``Dialect.keys``;
- an ``INSERT`` into a table with a generated integer key gets ``RETURNING key``, which is the
  cursor's ``lastrowid`` as with SQLite.

Each store lives in its own schema (``<prefix>_memory``, ``<prefix>_sessions``), so their table
names never meet and one database can hold several teams (one prefix each). Migrations are
numbered per schema, applied on connect under an advisory lock, each in one transaction
(PostgreSQL DDL is transactional: a migration cut off half way leaves nothing behind).

Connections come from a pool (``psycopg_pool``): a statement outside a transaction borrows one
for that statement and hands its rows back materialised; ``transaction()`` holds one for the
block (per thread). Writers are serialised the way SQLite's ``BEGIN IMMEDIATE`` serialises
them: ``immediate`` transactions take the schema's transaction-level advisory lock, so a
read-check-write such as "supersede the current version" can never lose an update, whatever
number of processes and machines write. A pool with no free connection within
``database_pool_timeout_s`` is a clear ``StoreError``, never a hang; a server restart costs the
statements in flight (a ``StoreError``, nothing half-written) and the pool reconnects. A URL
that does not connect when the database is opened (wrong host, user, database, a server that is
down) is a ``ConfigError`` at once, with the server's reason and without the password.

Left out: row-level security policies (scope is enforced by the one query layer of each store,
``memory.sql``); pgvector indexes for memories (recall ranks an exact in-memory product over a
snapshot, as on SQLite, so both backends rank identically).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contextos.errors import ConfigError, StoreError

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

__all__ = [
    "Dialect",
    "PgCursor",
    "PgDatabase",
    "PgMigration",
    "Row",
    "pg_ddl",
    "redact_url",
    "translate",
    "vector_text",
]

PgMigration = Callable[["PgDatabase"], None]


@dataclass(frozen=True, slots=True)
class Dialect:
    """What the rewrite needs to know of a store's tables.

    ``keys``: table → the conflict key ``INSERT OR REPLACE`` updates on. ``serial``: table → its
    generated integer key (returned as ``lastrowid``)."""

    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    serial: dict[str, str] = field(default_factory=dict)


class Row(tuple[Any, ...]):
    """A result row readable by position and by column name, like ``sqlite3.Row``."""

    _names: tuple[str, ...] = ()

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._names.index(key))
            except ValueError:
                raise IndexError(f"no column named {key!r}") from None
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


class PgCursor:
    """The rows of one statement, fetched whole (the connection went back to the pool)."""

    def __init__(self, rows: list[Row], rowcount: int, lastrowid: int | None) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def fetchone(self) -> Row | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Row]:
        rest = self._rows[self._next :]
        self._next = len(self._rows)
        return rest

    def fetchmany(self, size: int = 1) -> list[Row]:
        rest = self._rows[self._next : self._next + size]
        self._next += len(rest)
        return rest

    def __iter__(self) -> Iterator[Row]:
        return iter(self.fetchall())


_INSERT = re.compile(
    r"^\s*INSERT\s+(?:OR\s+(IGNORE|REPLACE)\s+)?INTO\s+([A-Za-z_][A-Za-z0-9_]*)\s*(\(([^)]*)\))?",
    re.IGNORECASE,
)


def _placeholders(sql: str) -> str:
    out: list[str] = []
    quoted = False
    for ch in sql:
        if ch == "'":
            quoted = not quoted
            out.append(ch)
        elif ch == "%":
            out.append("%%")
        elif ch == "?" and not quoted:
            out.append("%s")
        else:
            out.append(ch)
    return "".join(out)


def _translate(sql: str, dialect: Dialect) -> tuple[str, bool]:
    text = sql.strip().rstrip(";")
    returning = False
    match = _INSERT.match(text)
    if match:
        verb, table, columns = match.group(1), match.group(2), match.group(4)
        text = re.sub(r"^\s*INSERT\s+OR\s+(IGNORE|REPLACE)\s+", "INSERT ", text, flags=re.I)
        if verb and verb.upper() == "IGNORE":
            text += " ON CONFLICT DO NOTHING"
        elif verb:
            key = dialect.keys.get(table)
            if key is None or columns is None:
                raise StoreError(f"INSERT OR REPLACE into {table}: no conflict key known")
            names = [c.strip() for c in columns.split(",")]
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in names if c not in key)
            action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
            text += f" ON CONFLICT ({', '.join(key)}) {action}"
        serial = dialect.serial.get(table)
        if serial is not None and "RETURNING" not in text.upper():
            text += f" RETURNING {serial}"
            returning = True
    return _placeholders(text), returning


SQLITE_NOW = "(strftime('%Y-%m-%dT%H:%M:%fZ','now'))"
"""The migrations' timestamp default on SQLite (ISO 8601, milliseconds, UTC)."""
_PG_NOW = """(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))"""
_REFUSE = (
    "CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$"
)
_FTS = re.compile(
    r"^CREATE VIRTUAL TABLE (\w+) USING fts5\(([^)]*?)(?:,\s*tokenize\s*=.*)?\)$", re.S | re.I
)
_RAISE = re.compile(
    r"^CREATE TRIGGER (\w+) BEFORE (UPDATE|DELETE) ON (\w+)\s+"
    r"BEGIN SELECT RAISE\(ABORT, '([^']*)'\); END$",
    re.S | re.I,
)


def pg_ddl(statement: str) -> list[str]:
    """One statement of a SQLite migration as PostgreSQL runs it, so each schema is written
    once: integer keys become identity columns, other integers ``BIGINT`` (SQLite's are 64-bit),
    text columns ``COLLATE "C"`` (SQLite orders and compares text as bytes; a locale collation
    would order paths differently and change rankings),
    ``BLOB`` ``BYTEA``, the ``strftime`` default
    ``to_char(now())`` in the same format, an FTS5 table a plain table of its columns keyed by
    ``rowid`` (postings are built in the application on both backends), and a trigger that
    raises (append-only tables) a trigger calling ``refuse_change`` with the same message."""
    text = statement.strip().rstrip(";").strip()
    if re.match(r"^CREATE VIRTUAL TABLE \w+ USING fts5vocab\(", text, re.I):
        return []  # FTS5's own vocabulary view: postings live in the application
    fts = _FTS.match(text)
    if fts:
        columns = [c.strip() for c in fts.group(2).split(",") if c.strip()]
        body = ", ".join(f"{c} TEXT NOT NULL" for c in columns)
        return [f"CREATE TABLE {fts.group(1)} (rowid BIGINT PRIMARY KEY, {body})"]
    trigger = _RAISE.match(text)
    if trigger:
        name, event, table, message = trigger.groups()
        return [
            _REFUSE,
            f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW"
            f" EXECUTE FUNCTION refuse_change('{message}')",
        ]
    text = re.sub(
        r"\bINTEGER PRIMARY KEY( AUTOINCREMENT)?",
        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        text,
    )
    text = re.sub(r"\bINTEGER\b(?! PRIMARY KEY)", "BIGINT", text)  # SQLite's are 64-bit
    if re.match(r"^(CREATE TABLE|ALTER TABLE)\b", text, re.I):  # SQLite compares bytes
        text = re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', text)
    text = re.sub(r"\bBLOB\b", "BYTEA", text).replace(SQLITE_NOW, _PG_NOW)
    return [text.replace(" WITHOUT ROWID", "")]


def vector_text(vector: Any) -> str:
    """pgvector's text input for ``vector``; ``repr`` of each float32 (as a double) reads back
    as the same float32."""
    import numpy as np

    return "[" + ",".join(repr(float(x)) for x in np.asarray(vector, dtype=np.float32)) + "]"


def translate(sql: str, dialect: Dialect | None = None) -> str:
    """``sql`` in SQLite's dialect, as PostgreSQL runs it (for tests and ``EXPLAIN``)."""
    return _translate(sql, dialect or Dialect())[0]


def redact_url(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def _explain(exc: Exception, url: str, pool: ConnectionPool | None = None) -> StoreError:
    import psycopg
    from psycopg_pool import PoolTimeout

    where = redact_url(url)
    if isinstance(exc, PoolTimeout) and pool is not None and not _full(pool):
        return StoreError(  # a pool with room to grow that still timed out could not connect
            f"cannot reach PostgreSQL at {where}: no connection within the pool timeout "
            f"({exc}); nothing of the failed write was kept: check the server and run the "
            "command again"
        )
    if isinstance(exc, PoolTimeout):
        return StoreError(
            f"no free PostgreSQL connection within the pool timeout ({exc}): raise "
            "CONTEXTOS_DATABASE_POOL_MAX or CONTEXTOS_DATABASE_POOL_TIMEOUT_S, or lower the load"
        )
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return StoreError(
            f"a PostgreSQL statement ran past the statement timeout ({exc}); nothing of it was "
            "kept: raise CONTEXTOS_DATABASE_STATEMENT_TIMEOUT_MS or retry"
        )
    if isinstance(exc, psycopg.OperationalError):
        return StoreError(
            f"cannot reach PostgreSQL at {where} ({str(exc).strip()}); nothing of the failed "
            "write was kept: check the server and run the command again"
        )
    return StoreError(f"PostgreSQL at {where}: {str(exc).strip()}")


def _full(pool: ConnectionPool) -> bool:
    """Whether every connection ``pool`` may open is open (so a timeout means all were busy)."""
    stats = pool.get_stats()
    return stats.get("pool_size", 0) >= stats.get("pool_max", pool.max_size)


class PgDatabase:
    """One store's schema in a PostgreSQL database, with the surface the stores use."""

    def __init__(self, url: str, schema: str, dialect: Dialect, pool: ConnectionPool) -> None:
        self.url = url
        self.schema = schema
        self.dialect = dialect
        self.path = None
        self._pool = pool
        self._local = threading.local()
        self._lock_key = zlib.crc32(schema.encode())
        self._sql: dict[str, tuple[str, bool]] = {}
        self._vector_schema: str | None = None

    @classmethod
    def open(
        cls,
        url: str,
        schema: str,
        migrations: Sequence[PgMigration],
        dialect: Dialect,
        *,
        pool_max: int = 10,
        pool_timeout_s: float = 10.0,
        statement_timeout_ms: int = 30000,
        migrate: bool = True,
    ) -> PgDatabase:
        """Connect (a pool of at most ``pool_max``), create the schema and apply ``migrations``
        (``migrate`` False: only connect, for ``contextos db status``)."""
        try:
            from psycopg_pool import ConnectionPool
        except ImportError as exc:
            raise StoreError(
                "the PostgreSQL backend needs psycopg: pip install 'contextos[team]'"
            ) from exc

        _probe(url, pool_timeout_s)

        def configure(conn: psycopg.Connection[Any]) -> None:
            conn.autocommit = True
            conn.execute(f"SET search_path TO {schema}, public")
            conn.execute(f"SET statement_timeout = {int(statement_timeout_ms)}")

        pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, pool_max),
            timeout=pool_timeout_s,
            configure=configure,
            check=_check_if_idle,
            open=False,
            reconnect_timeout=pool_timeout_s,
        )
        try:
            pool.open(wait=True, timeout=pool_timeout_s)
        except Exception as exc:
            pool.close()
            raise ConfigError(
                f"cannot connect to PostgreSQL at {redact_url(url)}: {exc}; check "
                "CONTEXTOS_DATABASE_URL and that the server is up"
            ) from exc
        db = cls(url, schema, dialect, pool)
        if not migrate:
            return db
        try:
            db._migrate(migrations)
        except BaseException:
            db.close()
            raise
        return db

    # -- the connection surface ----------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return getattr(self._local, "conn", None) is not None

    def execute(self, sql: str, parameters: Any = (), /) -> PgCursor:
        return self._run(sql, [parameters], many=False)

    def executemany(self, sql: str, parameters: Any, /) -> PgCursor:
        return self._run(sql, list(parameters), many=True)

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def transaction(self, *, immediate: bool = True) -> Iterator[PgDatabase]:
        """One transaction on one pooled connection for this thread; ``immediate`` takes the
        schema's write lock first (as SQLite's ``BEGIN IMMEDIATE``)."""
        if self.in_transaction:
            raise StoreError("nested transactions are not supported")
        try:
            with self._pool.connection() as conn:
                self._local.conn = conn
                try:
                    with conn.transaction():
                        if immediate:
                            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
                        else:  # one consistent snapshot for the block's reads
                            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                        yield self
                finally:
                    self._local.conn = None
        except StoreError:
            raise
        except Exception as exc:
            if _is_database_error(exc):
                raise _explain(exc, self.url, self._pool) from exc
            raise

    @contextmanager
    def native(self, *, immediate: bool = True) -> Iterator[psycopg.Connection[Any]]:
        """This thread's pooled psycopg connection inside ``transaction()``, for what the
        portable surface cannot say (pgvector's binary vectors in ``code.pgvectors``)."""
        with self.transaction(immediate=immediate):
            yield self._local.conn

    def vector_schema(self) -> str:
        """The schema pgvector lives in (installed into ``public`` if missing), looked up once
        per handle: vector columns, casts and operators are qualified with it."""
        if self._vector_schema is None:
            missing = (
                "the PostgreSQL server has no usable pgvector extension ({}): install it (the "
                "pgvector/pgvector image, or Debian's postgresql-<version>-pgvector)"
            )
            try:
                self.execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")
            except StoreError as exc:
                raise StoreError(missing.format(exc)) from exc
            row = self.execute(
                "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = ?",
                ("vector",),
            ).fetchone()
            if row is None:
                raise StoreError(missing.format("not installed"))
            self._vector_schema = str(row[0])
        return self._vector_schema

    def generation(self) -> int:
        row = self.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    # -- internals -----------------------------------------------------------------------

    def _run(self, sql: str, batches: list[Any], *, many: bool) -> PgCursor:
        cached = self._sql.get(sql)
        if cached is None:
            cached = self._sql[sql] = _translate(sql, self.dialect)
        text, returning = cached
        held = getattr(self._local, "conn", None)
        try:
            if held is not None:
                return _fetch(held, text, batches, many=many, returning=returning)
            with self._pool.connection() as conn:
                return _fetch(conn, text, batches, many=many, returning=returning)
        except Exception as exc:
            if _is_database_error(exc):
                raise _explain(exc, self.url, self._pool) from exc
            raise

    def _migrate(self, migrations: Sequence[PgMigration]) -> None:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                " name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
        from contextos.store.db import apply_pending

        apply_pending(self, migrations, self.current_version(), f"database schema {self.schema}")

    def applied(self) -> list[tuple[int, str, str]]:
        """(version, name, applied_at) of each applied migration; ``[]`` before the first."""
        exists = self.execute("SELECT to_regclass(?)", (f"{self.schema}.schema_migrations",))
        if exists.fetchone()[0] is None:  # type: ignore[index]
            return []
        rows = self.execute("SELECT version, name, applied_at FROM schema_migrations ORDER BY 1")
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    def current_version(self) -> int:
        return max((version for version, _, _ in self.applied()), default=0)


def _probe(url: str, timeout_s: float) -> None:
    """Connect once, so a wrong URL or a server that is down is one clear ``ConfigError`` with
    the server's reason, at once (the pool would retry until its timeout and say only that),
    and keep the pool's retry warnings off stderr: failures reach the caller as errors."""
    import psycopg

    logger = logging.getLogger("psycopg.pool")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
    try:
        psycopg.connect(url, connect_timeout=max(1, round(timeout_s)), autocommit=True).close()
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        password = re.search(r"://[^:/@]+:([^@]*)@", url)
        if password and password.group(1):
            reason = reason.replace(password.group(1), "***")
        raise ConfigError(
            f"cannot connect to PostgreSQL at {redact_url(url)} ({reason}): check "
            "CONTEXTOS_DATABASE_URL and that the server is up"
        ) from exc


def _is_database_error(exc: Exception) -> bool:
    import psycopg
    from psycopg_pool import PoolTimeout

    return isinstance(exc, psycopg.Error | PoolTimeout)


_FRESH_S = 1.0
"""A pooled connection that answered within this many seconds is lent without a ping."""
_last_ok: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


def _check_if_idle(conn: psycopg.Connection[Any]) -> None:
    """The pool's check on lending a connection: a round trip (``check_connection``) only for
    one idle over ``_FRESH_S``; a search runs a dozen statements, and a ping before each one
    doubled its round trips. A server lost within that second costs the statement in flight a
    ``StoreError``, as it would mid-statement."""
    from psycopg_pool import ConnectionPool

    if time.monotonic() - _last_ok.get(conn, -_FRESH_S) > _FRESH_S:
        ConnectionPool.check_connection(conn)


def _fetch(
    conn: psycopg.Connection[Any],
    sql: str,
    batches: list[Any],
    *,
    many: bool,
    returning: bool,
) -> PgCursor:
    with conn.cursor() as cur:
        if many:
            if not batches:
                return PgCursor([], 0, None)
            cur.executemany(sql, batches)
            _last_ok[conn] = time.monotonic()
            return PgCursor([], cur.rowcount, None)
        cur.execute(sql, tuple(batches[0]))
        _last_ok[conn] = time.monotonic()
        rows: list[Row] = []
        if cur.description is not None:
            names = tuple(d.name for d in cur.description)
            for values in cur.fetchall():
                row = Row(_plain(v) for v in values)
                row._names = names
                rows.append(row)
        lastrowid = int(rows[0][0]) if returning and rows else None
        return PgCursor(rows, cur.rowcount, lastrowid)


def _plain(value: Any) -> Any:
    """bytea arrives as ``memoryview``; the stores expect ``bytes`` as from SQLite."""
    return bytes(value) if isinstance(value, memoryview) else value

"""Copy a store's rows from one database to another, whole: SQLite → PostgreSQL and back
(``contextos migrate-store``).

One code path both ways: ``copy_store`` reads and writes through the ``Connection`` surface
(``store.db.connect`` for SQLite, ``store.pg.PgDatabase`` for PostgreSQL), in SQLite's dialect.
Every row of every table is copied as stored, with its integer keys (``memories.seq`` orders
recall's ties and keys the lexical rows; history ids and timestamps are the audit trail), so a
round trip gives the same rows. Afterwards PostgreSQL's identity sequences are moved past the
copied keys, so the next insert does not collide.

Contracts: the target must be empty (``TargetNotEmpty`` otherwise: a copy never merges into or
overwrites a store in use); each store's target is written in one transaction and its source
read in one snapshot, so a failure leaves that target as it was. The migrations rows are not
copied: each side records its own when it is opened. Values are copied unchanged, except
owners when the caller maps them (a personal store's ``""`` to a team user).

Left out: merging stores, copying between different schema versions (both sides are migrated
to the same version first), text holding NUL (PostgreSQL refuses it: the copy fails, the
target stays empty), the code index (rebuilt per machine) and the team's chunk vectors
(``vectors``: PostgreSQL only, filled by ``index --push``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contextos.errors import StoreError, UserInputError
from contextos.store.db import Connection, connect, transaction
from contextos.store.pg import PgDatabase, redact_url

__all__ = [
    "TABLES",
    "Table",
    "TargetNotEmpty",
    "copy_store",
    "count_rows",
    "dump",
    "migrate_stores",
    "open_store",
]

Progress = Callable[[str, int, int], None]


class TargetNotEmpty(UserInputError):
    """The target store already holds rows; nothing was copied."""


@dataclass(frozen=True, slots=True)
class Table:
    """One table to copy, in the order written. ``key``: the columns rows are read in order of
    (keyset paging, so a large table is never held whole). ``columns``: what is read (``*``:
    every column, whatever migrations added). ``later``: columns referring to rows of the same
    table, written by a second pass once every row exists. ``seeded``: the migration writes
    rows here itself (``meta``); they are replaced, and do not make the target non-empty."""

    name: str
    key: tuple[str, ...]
    columns: str = "*"
    later: tuple[str, ...] = ()
    seeded: bool = False


TABLES: dict[str, tuple[Table, ...]] = {
    "memory": (
        Table("memories", ("seq",)),
        Table("memories_fts", ("rowid",), columns="rowid, body, names"),
        Table("edges", ("id",)),
        Table("facts", ("id",)),
        Table("history", ("id",)),
        Table("jobs", ("id",)),
        Table("meta", ("key",), seeded=True),
    ),
    "sessions": (
        Table("sessions", ("id",), later=("parent",)),
        Table("events", ("session_id", "seq")),
        Table("compactions", ("id",)),
    ),
}
"""Every table of each store (a test checks none is missing), parents before children."""

PAGE = 2000


def count_rows(conn: Connection, store: str) -> dict[str, int]:
    """Rows per table of ``store`` in ``conn``."""
    out = {}
    for table in TABLES[store]:
        row = conn.execute(f"SELECT COUNT(*) FROM {table.name}").fetchone()
        out[table.name] = int(row[0])
    return out


def _pages(conn: Connection, table: Table) -> Any:
    """``table``'s rows in key order, a page at a time, as (column names, rows)."""
    keys = ", ".join(table.key)
    after = ""
    last: Sequence[Any] = ()
    while True:
        sql = f"SELECT {table.columns} FROM {table.name}{after} ORDER BY {keys} LIMIT ?"
        rows = conn.execute(sql, (*last, PAGE)).fetchall()
        if not rows:
            return
        names = list(rows[0].keys())
        yield names, rows
        if len(rows) < PAGE:
            return
        marks = ", ".join("?" for _ in table.key)
        after = f" WHERE ({keys}) > ({marks})" if len(table.key) > 1 else f" WHERE {keys} > ?"
        last = tuple(rows[-1][k] for k in table.key)


def _refuse_rows(target: Connection, store: str, where: str) -> None:
    for table in TABLES[store]:
        if table.seeded:
            continue
        if target.execute(f"SELECT 1 FROM {table.name} LIMIT 1").fetchone() is not None:
            raise TargetNotEmpty(
                f"the target {store} store ({where}) already holds rows ({table.name}); "
                "migrate-store copies only into an empty store: point --to at a new database, "
                "schema prefix (CONTEXTOS_DATABASE_SCHEMA) or directory (--sqlite-dir)"
            )


def _copy_table(
    source: Connection,
    target: Connection,
    table: Table,
    owners: Mapping[str, str],
    progress: Callable[[int], None],
) -> int:
    """Copy ``table``'s rows a page at a time; ``progress(n)`` after each page of ``n``."""
    done = 0
    later: list[tuple[Any, ...]] = []
    for names, rows in _pages(source, table):
        cols = ", ".join(names)
        marks = ", ".join("?" for _ in names)
        verb = "INSERT OR REPLACE" if table.seeded else "INSERT"
        owner = names.index("owner") if owners and "owner" in names else None
        values = []
        for row in rows:
            value = [row[name] for name in names]
            if owner is not None:
                value[owner] = owners.get(value[owner], value[owner])
            if table.later:
                later.append((*(row[c] for c in table.later), *(row[k] for k in table.key)))
                value = [None if n in table.later else v for n, v in zip(names, value, strict=True)]
            values.append(value)
        target.executemany(f"{verb} INTO {table.name}({cols}) VALUES ({marks})", values)
        done += len(rows)
        progress(len(rows))
    if table.later:
        sets = ", ".join(f"{c} = ?" for c in table.later)
        match = " AND ".join(f"{k} = ?" for k in table.key)
        pending = [v for v in later if any(x is not None for x in v[: len(table.later)])]
        target.executemany(f"UPDATE {table.name} SET {sets} WHERE {match}", pending)
    return done


def _reset_identities(target: Connection) -> None:
    """PostgreSQL: move each identity sequence past the largest copied key (SQLite's integer
    keys need nothing: the next one is always max + 1)."""
    if not isinstance(target, PgDatabase):
        return
    for table, column in target.dialect.serial.items():
        target.execute(
            f"SELECT setval(pg_get_serial_sequence(?, ?), (SELECT max({column}) FROM {table}))",
            (table, column),
        )


def copy_store(
    source: Connection,
    target: Connection,
    store: str,
    *,
    owners: Mapping[str, str] | None = None,
    target_name: str = "the target",
    progress: Progress | None = None,
) -> dict[str, int]:
    """Copy every row of ``store`` (``memory`` or ``sessions``) from ``source`` to the empty
    ``target``, in one target transaction; rows copied per table. ``TargetNotEmpty`` (nothing
    written) if the target holds rows. Both sides must be migrated to the same version.

    ``owners`` renames row owners on the way (``{"": "alice"}``: a personal store's rows become
    alice's in a team database); without it every value is copied as stored. ``progress`` is
    called as ``(store, rows done, rows in all)``."""
    report = progress or (lambda *_: None)
    copied: dict[str, int] = {}
    with (
        transaction(source, immediate=False) as reader,
        transaction(target) as writer,
    ):
        _refuse_rows(writer, store, target_name)
        total = sum(count_rows(reader, store).values())
        done = 0

        def step(rows: int) -> None:
            nonlocal done
            done += rows
            report(store, done, total)

        step(0)
        for table in TABLES[store]:
            copied[table.name] = _copy_table(reader, writer, table, owners or {}, step)
        _reset_identities(writer)
    return copied


def dump(conn: Connection, store: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of ``store`` by table as ``(column, value)`` tuples, sorted by key in Python
    (the backends collate text differently), for comparing a copy with its original."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table in TABLES[store]:
        keyed: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = []
        for names, page in _pages(conn, table):
            keyed += [
                (tuple(r[k] for k in table.key), tuple((n, r[n]) for n in sorted(names)))
                for r in page
            ]
        out[table.name] = [row for _, row in sorted(keyed)]
    return out


def _sqlite_path(store: str, sqlite_dir: Path | None) -> Path:
    from contextos.home import memory_db_path, sessions_db_path

    default = memory_db_path if store == "memory" else sessions_db_path
    return sqlite_dir / default().name if sqlite_dir is not None else default()


def _migrations(store: str) -> tuple[Sequence[Any], Sequence[Any]]:
    """``store``'s SQLite and PostgreSQL migrations."""
    from contextos.context import schema as sessions
    from contextos.memory import schema as memory

    module = memory if store == "memory" else sessions
    return module.MIGRATIONS, module.PG_MIGRATIONS


def open_store(
    where: str, store: str, *, sqlite_dir: Path | None = None, create: bool
) -> tuple[Connection | None, str]:
    """``store``'s database at ``where`` (``sqlite``: the file under ``sqlite_dir`` or
    ``CONTEXTOS_HOME``; else a PostgreSQL URL) and how to name it in messages. ``create``
    False (a source): ``None`` when the store does not exist there, and nothing is created;
    a PostgreSQL source behind this contextos's migrations is refused (it is not migrated)."""
    lite, pg = _migrations(store)
    if where == "sqlite":
        path = _sqlite_path(store, sqlite_dir)
        if not create and not path.exists():
            return None, str(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return connect(path, lite), str(path)
    from contextos.store.backends import open_pg

    db = open_pg(where, store, migrate=create)
    name = f"{redact_url(where)} schema {db.schema}"
    version = db.current_version()
    if not create and version != len(pg):
        db.close()
        if version == 0:
            return None, name
        raise UserInputError(
            f"{name} is at migration {version} of {len(pg)}: run `contextos db migrate` first"
        )
    return db, name


def _check_where(where: str, flag: str) -> str:
    if where == "sqlite" or where.startswith(("postgresql://", "postgres://")):
        return where
    raise UserInputError(
        f"{flag} {redact_url(where)!r}: use sqlite or a postgresql://user:password@host/db URL"
    )


def migrate_stores(
    source: str,
    target: str,
    *,
    sqlite_dir: Path | None = None,
    owner: str | None = None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Copy the memory and session stores from ``source`` to ``target`` (each ``sqlite`` or a
    PostgreSQL URL). Every target is checked empty before anything is copied; each store is
    then copied in its own transaction. One summary per store: where from and to, rows per
    table, seconds; or ``skipped`` with why (the source has no such store).

    ``owner``: the user the personal SQLite store belongs to. Its rows (owner ``""``) become
    ``owner``'s on the way to PostgreSQL, and ``owner``'s rows become ``""`` on the way back;
    without it owners are copied as stored."""
    _check_where(source, "--from")
    _check_where(target, "--to")
    if source == target:
        raise UserInputError(f"--from and --to are the same ({redact_url(source)}): nothing to do")
    owners: dict[str, str] = {}
    if owner is not None:
        if "sqlite" not in (source, target) or not owner:
            raise UserInputError(
                "--owner NAME names the user a personal SQLite store belongs to: use it with "
                "--from sqlite or --to sqlite, and a non-empty NAME"
            )
        owners = {"": owner} if source == "sqlite" else {owner: ""}
    opened: list[Connection] = []
    plan: list[tuple[str, Connection | None, str, Connection | None, str]] = []
    try:
        for store in TABLES:
            src, src_name = open_store(source, store, sqlite_dir=sqlite_dir, create=False)
            if src is None:
                plan.append((store, None, src_name, None, ""))
                continue
            opened.append(src)
            dst, dst_name = open_store(target, store, sqlite_dir=sqlite_dir, create=True)
            assert dst is not None
            opened.append(dst)
            _refuse_rows(dst, store, dst_name)
            plan.append((store, src, src_name, dst, dst_name))
        if all(src is None for _, src, _, _, _ in plan):
            raise UserInputError(
                f"nothing to copy: no memory or session store at {plan[0][2]} or {plan[1][2]}"
            )
        out: list[dict[str, Any]] = []
        for store, src, src_name, dst, dst_name in plan:
            if src is None or dst is None:
                out.append({"store": store, "from": src_name, "skipped": "no such store"})
                continue
            start = time.perf_counter()
            try:
                tables = copy_store(
                    src, dst, store, owners=owners, target_name=dst_name, progress=progress
                )
            except StoreError as exc:
                copied = [s["store"] for s in out if "tables" in s]
                if not copied:
                    raise
                raise StoreError(
                    f"the {store} store was not copied (its target is left empty) but "
                    f"{' and '.join(copied)} was: {exc}"
                ) from exc
            seconds = round(time.perf_counter() - start, 3)
            out.append(
                {
                    "store": store,
                    "from": src_name,
                    "to": dst_name,
                    "tables": tables,
                    "rows": sum(tables.values()),
                    "seconds": seconds,
                }
            )
        return out
    finally:
        for conn in opened:
            conn.close()

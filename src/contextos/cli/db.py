"""``contextos db status|migrate`` (the PostgreSQL team backend's migrations) and ``contextos
migrate-store`` (copy memories and sessions between SQLite and PostgreSQL). Parse, call
``contextos.store.backends`` / ``contextos.store.migrate``, render.

The database is ``--database-url`` or the ``database_url`` setting (``CONTEXTOS_DATABASE_URL``);
neither is one error line and exit 2, as is a server that cannot be reached. A URL is printed
only without its password. Errors end through ``_output``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from contextos.cli._output import emit, handled, note, progress, say

__all__ = ["db_app", "register"]

db_app = typer.Typer(
    rich_markup_mode=None,
    help="The PostgreSQL team backend: show (status) and apply (migrate) its migrations.",
    no_args_is_help=True,
)

URL_HELP = "PostgreSQL URL (default: the database_url setting, CONTEXTOS_DATABASE_URL)."


def register(app: typer.Typer) -> None:
    """Add the ``db`` command group and ``migrate-store`` to ``app``."""
    app.add_typer(db_app, name="db")
    app.command(name="migrate-store")(migrate_store)


def _url(flag: str | None) -> str:
    from contextos.errors import UserInputError
    from contextos.settings import load_settings

    url = flag or load_settings().database_url
    if not url:
        raise UserInputError(
            "no PostgreSQL database given: pass --database-url "
            "postgresql://user:password@host/db or set CONTEXTOS_DATABASE_URL"
        )
    return url


def _status_lines(stores: list[dict[str, Any]], *, applied_now: bool) -> list[str]:
    lines = []
    for s in stores:
        state = f"{s['applied']}/{s['known']} migrations"
        if s["pending"]:
            state += f", pending: {', '.join(s['pending'])}"
        elif applied_now and s.get("newly"):
            state += f", applied now: {', '.join(s['newly'])}"
        else:
            state += ", up to date"
        lines.append(f"{s['store']:9} {s['schema']}: {state}")
    return lines


@db_app.command()
@handled()
def status(
    database_url: Annotated[str | None, typer.Option(help=URL_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Show each store's schema and its applied, known and pending migrations."""
    from contextos.store.backends import status as read_status
    from contextos.store.pg import redact_url

    url = _url(database_url)
    stores = read_status(url)
    where = redact_url(url)
    emit(
        {"database": where, "stores": stores},
        as_json,
        lambda: say(where, *_status_lines(stores, applied_now=False)),
    )


@db_app.command()
@handled()
def migrate(
    database_url: Annotated[str | None, typer.Option(help=URL_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Apply every pending migration (each in one transaction) and say which ran."""
    from contextos.store.backends import status as read_status
    from contextos.store.pg import redact_url

    url = _url(database_url)
    before = {s["store"]: s["pending"] for s in read_status(url)}
    stores = read_status(url, migrate=True)
    for s in stores:
        s["newly"] = [name for name in before[s["store"]] if name not in s["pending"]]
    where = redact_url(url)
    emit(
        {"database": where, "stores": stores},
        as_json,
        lambda: say(where, *_status_lines(stores, applied_now=True)),
    )


def _copy_lines(stores: list[dict[str, Any]]) -> list[str]:
    lines = []
    for s in stores:
        if "skipped" in s:
            lines.append(f"{s['store']}: skipped, {s['skipped']} at {s['from']}")
            continue
        counts = ", ".join(f"{n} {t}" for t, n in s["tables"].items() if n)
        lines.append(
            f"{s['store']}: {s['rows']} rows from {s['from']} to {s['to']} in "
            f"{s['seconds']:.1f}s" + (f" ({counts})" if counts else "")
        )
    return lines


@handled()
def migrate_store(
    source: Annotated[
        str,
        typer.Option("--from", help="sqlite (the files under CONTEXTOS_HOME) or a PostgreSQL URL."),
    ],
    target: Annotated[
        str, typer.Option("--to", help="sqlite or a PostgreSQL URL; must hold no rows yet.")
    ],
    sqlite_dir: Annotated[
        Path | None,
        typer.Option(help="Directory of memory.db and sessions.db (default: CONTEXTOS_HOME)."),
    ] = None,
    owner: Annotated[
        str | None,
        typer.Option(
            help="The user the SQLite store belongs to: its rows become NAME's in PostgreSQL, "
            "NAME's rows become the personal store's on the way back.",
            metavar="NAME",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Copy every memory (all versions), history row, job and session, losslessly."""
    from contextos.store.migrate import migrate_stores

    with progress(not as_json) as update:
        stores = migrate_stores(source, target, sqlite_dir=sqlite_dir, owner=owner, progress=update)
    emit(stores, as_json, lambda: say(*_copy_lines(stores)))
    memories = sum(s.get("tables", {}).get("memories", 0) for s in stores)
    if source == "sqlite" and owner is None and memories and not as_json:
        note(
            "rows keep the personal store's owner ''; on PostgreSQL user-scoped memories are "
            "read by their owner only: copy with --owner NAME to make them NAME's"
        )

"""Which database a store opens: the SQLite file under ``CONTEXTOS_HOME`` or, when the
``database_url`` setting is set, that store's schema in the team's PostgreSQL database.

``STORES`` names each store that can live in PostgreSQL with its schema suffix, migrations and
dialect; ``open_pg`` opens one with the pool and timeout settings; ``status`` reports every
store's applied and known migrations (``contextos db status``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contextos.errors import UserInputError
from contextos.store.pg import Dialect, PgDatabase, PgMigration, redact_url

__all__ = ["STORES", "StoreSpec", "open_pg", "status", "team_url"]


@dataclass(frozen=True, slots=True)
class StoreSpec:
    name: str
    migrations: Sequence[PgMigration]
    dialect: Dialect


def _specs() -> dict[str, StoreSpec]:
    from contextos.context import schema as sessions
    from contextos.embed import shared
    from contextos.memory import schema as memory

    return {
        "memory": StoreSpec("memory", memory.PG_MIGRATIONS, memory.DIALECT),
        "sessions": StoreSpec("sessions", sessions.PG_MIGRATIONS, sessions.DIALECT),
        "vectors": StoreSpec("vectors", shared.PG_MIGRATIONS, shared.DIALECT),
    }


STORES: tuple[str, ...] = ("memory", "sessions", "vectors")


def _all_specs() -> dict[str, StoreSpec]:
    """``_specs`` and the code index, whose schema is one per workspace."""
    from contextos.code import schema as code

    return _specs() | {"code": StoreSpec("code", code.PG_MIGRATIONS, code.DIALECT)}


def team_url(path: Path | None = None, database_url: str | None = None) -> str | None:
    """The PostgreSQL URL a store opens: ``database_url`` if given, else the ``database_url``
    setting unless the caller named a SQLite file (``path``); ``None`` means SQLite."""
    if database_url is not None or path is not None:
        return database_url or None
    from contextos.settings import load_settings

    return load_settings().database_url


def _check_url(url: str) -> str:
    if not url.startswith(("postgresql://", "postgres://")):
        raise UserInputError(
            f"database_url {redact_url(url)!r} is not a PostgreSQL URL: use "
            "postgresql://user:password@host:5432/dbname"
        )
    return url


def open_pg(
    url: str, store: str, *, migrate: bool = True, instance: str | None = None
) -> PgDatabase:
    """Open ``store``'s schema (``<database_schema>_<store>``, ``_<instance>`` appended for a
    store with one schema per workspace: the code index) at ``url``, migrating it unless
    ``migrate`` is False."""
    from contextos.settings import load_settings

    settings = load_settings()
    spec = _all_specs()[store]
    suffix = f"_{instance}" if instance else ""
    return PgDatabase.open(
        _check_url(url),
        f"{settings.database_schema}_{spec.name}{suffix}",
        spec.migrations,
        spec.dialect,
        pool_max=settings.database_pool_max,
        pool_timeout_s=settings.database_pool_timeout_s,
        statement_timeout_ms=settings.database_statement_timeout_ms,
        migrate=migrate,
    )


def status(url: str, *, migrate: bool = False) -> list[dict[str, Any]]:
    """Every store's schema with its applied and known migrations; ``migrate`` applies the
    pending ones first (``contextos db migrate``)."""
    out = []
    for name, spec in _specs().items():
        db = open_pg(url, name, migrate=migrate)
        try:
            applied = db.applied()
        finally:
            db.close()
        out.append(
            {
                "store": name,
                "schema": db.schema,
                "applied": len(applied),
                "known": len(spec.migrations),
                "pending": [m.__name__ for m in spec.migrations[len(applied) :]],
                "migrations": [{"version": v, "name": n, "applied_at": at} for v, n, at in applied],
            }
        )
    return out

"""``contextos db status|migrate`` and ``contextos migrate-store`` through the console script,
against a real embedded PostgreSQL: what they print, their JSON, and their one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from contextos.context import schema as sessions_schema
from contextos.memory import schema as memory_schema
from tests.test_migrate_store import fill, url  # noqa: F401  (fixtures)

SCRIPT = Path(sys.executable).parent / "contextos"


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def one_error(result: subprocess.CompletedProcess[str]) -> str:
    (line,) = result.stderr.splitlines()
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert line.startswith("error: ") and "Traceback" not in result.stderr
    return line


def test_status_lists_pending_migrations_and_migrate_applies_them(url: str) -> None:  # noqa: F811
    schema = os.environ["CONTEXTOS_DATABASE_SCHEMA"]
    memory_names = [m.__name__ for m in memory_schema.PG_MIGRATIONS]
    sessions_names = [m.__name__ for m in sessions_schema.PG_MIGRATIONS]
    before = run("db", "status", "--database-url", url)
    assert before.returncode == 0, before.stderr
    lines = before.stdout.splitlines()
    assert lines[0] == url.replace("postgres:@", "postgres:***@")
    assert lines[1:3] == [
        f"memory    {schema}_memory: 0/{len(memory_names)} migrations, pending: "
        + ", ".join(memory_names),
        f"sessions  {schema}_sessions: 0/{len(sessions_names)} migrations, pending: "
        + ", ".join(sessions_names),
    ]

    applied = run("db", "migrate", "--database-url", url)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.splitlines()[1:3] == [
        f"memory    {schema}_memory: {len(memory_names)}/{len(memory_names)} migrations, "
        "applied now: " + ", ".join(memory_names),
        f"sessions  {schema}_sessions: {len(sessions_names)}/{len(sessions_names)} migrations, "
        "applied now: " + ", ".join(sessions_names),
    ]
    again = run("db", "migrate", "--json", CONTEXTOS_DATABASE_URL=url)
    stores = {s["store"]: s for s in json.loads(again.stdout)["stores"]}
    memory = stores["memory"]
    assert (memory["schema"], memory["applied"], memory["known"], memory["pending"]) == (
        f"{schema}_memory",
        len(memory_names),
        len(memory_names),
        [],
    )
    assert memory["newly"] == []
    assert [m["name"] for m in memory["migrations"]] == memory_names
    status = json.loads(run("db", "status", "--json", CONTEXTOS_DATABASE_URL=url).stdout)
    assert all(s["pending"] == [] for s in status["stores"])
    assert status["database"] == url.replace("postgres:@", "postgres:***@")


def test_db_commands_without_a_database_or_with_a_bad_one_are_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CONTEXTOS_DATABASE_URL", raising=False)
    assert "CONTEXTOS_DATABASE_URL" in one_error(run("db", "status"))
    assert "--database-url" in one_error(run("db", "migrate"))
    refused = one_error(
        run("db", "status", "--database-url", "postgresql://u:s3cret@127.0.0.1:9/x")
    )
    assert "cannot connect to PostgreSQL at postgresql://u:***@127.0.0.1:9/x" in refused
    assert "Connection refused" in refused and "s3cret" not in refused
    not_pg = one_error(run("db", "migrate", "--database-url", "mysql://u:s3cret@h/x"))
    assert "not a PostgreSQL URL" in not_pg and "s3cret" not in not_pg


def test_migrate_store_copies_there_and_back_and_reports_rows_per_table(
    url: str,  # noqa: F811
    isolated_home: Path,
    tmp_path: Path,
) -> None:
    fill(isolated_home)
    there = run("migrate-store", "--from", "sqlite", "--to", url, "--json")
    assert there.returncode == 0, there.stderr
    summary = json.loads(there.stdout)
    assert [(s["store"], s["from"]) for s in summary] == [
        ("memory", str(isolated_home / "memory.db")),
        ("sessions", str(isolated_home / "sessions.db")),
    ]
    assert summary[0]["tables"] == {
        "memories": 37,
        "memories_fts": 37,
        "edges": 2,
        "facts": 2,
        "history": 44,
        "jobs": 1,
        "meta": 1,
    }
    assert summary[1]["tables"] == {"sessions": 2, "events": 4, "compactions": 2}

    back = run("migrate-store", "--from", url, "--to", "sqlite", "--sqlite-dir", str(tmp_path))
    assert back.returncode == 0, back.stderr
    assert back.stdout.splitlines()[0].startswith(
        f"memory: 124 rows from {url.replace('postgres:@', 'postgres:***@')} schema "
    )
    assert back.stdout.splitlines()[0].endswith(
        "(37 memories, 37 memories_fts, 2 edges, 2 facts, 44 history, 1 jobs, 1 meta)"
    )


def test_migrate_store_refuses_a_target_holding_rows_with_one_line(
    url: str,  # noqa: F811
    isolated_home: Path,
) -> None:
    fill(isolated_home)
    first = run("migrate-store", "--from", "sqlite", "--to", url)
    assert first.returncode == 0, first.stderr
    assert "note: rows keep the personal store's owner ''" in first.stderr
    line = one_error(run("migrate-store", "--from", "sqlite", "--to", url))
    assert "already holds rows (memories)" in line and "empty store" in line
    same = one_error(run("migrate-store", "--from", "sqlite", "--to", "sqlite"))
    assert "the same" in same


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--from", "sqlite", "--to", "mysql://u:s3cret@h/db"], "use sqlite or a postgresql://"),
        (["--from", "sqlite", "--to", "postgresql://u:s3cret@127.0.0.1:9/x"], "cannot connect"),
        (["--from", "sqlite", "--to", "sqlite", "--owner", "bob"], "the same"),
    ],
)
def test_migrate_store_mistakes_are_one_line_without_the_password(
    args: list[str], says: str, isolated_home: Path
) -> None:
    fill(isolated_home)
    line = one_error(run("migrate-store", *args))
    assert says in line and "s3cret" not in line

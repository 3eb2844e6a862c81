"""The CLI through its real entry point (the installed console script), and docs coverage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from contextos.cli import app
from tests.conftest import RepoMaker

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "contextos"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


def test_index_search_status_json_through_console_script(make_repo: RepoMaker) -> None:
    repo = make_repo(
        {"calc.py": "def add_numbers(a, b):\n    return a + b\n", "README.md": "# calc\n"}
    )
    env = {"CONTEXTOS_EMBEDDER": "none"}
    indexed = run("index", str(repo), "--json", env=env)
    assert indexed.returncode == 0, indexed.stderr
    summary = json.loads(indexed.stdout)
    assert (summary["files_added"], summary["embedder"]) == (2, "none")
    found = run("search", "add numbers", "-p", str(repo), "--json", env=env)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert hits[0]["path"] == "calc.py" and hits[0]["symbol"] == "add_numbers"
    files = json.loads(run("search", "add", "-p", str(repo), "--files", "--json", env=env).stdout)
    assert files[0]["path"] == "calc.py"
    status = json.loads(run("status", str(repo), "--json", env=env).stdout)
    assert status["files"] == 2
    human = run("search", "add numbers", "-p", str(repo), env=env)
    assert "calc.py:1-2" in human.stdout


def test_user_mistakes_exit_2_with_a_message_not_a_traceback(tmp_path: Path) -> None:
    missing = run("index", str(tmp_path / "missing"))
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr and "Traceback" not in missing.stderr
    (tmp_path / "w").mkdir()
    empty = run("search", "  ", "-p", str(tmp_path / "w"))
    assert empty.returncode == 2 and "empty query" in empty.stderr
    bad_setting = run("index", str(tmp_path / "w"), env={"CONTEXTOS_MAX_FILE_BYTES": "lots"})
    assert bad_setting.returncode == 2 and "max_file_bytes" in bad_setting.stderr
    bad_embedder = run("index", str(tmp_path / "w"), env={"CONTEXTOS_EMBEDDER": "magic:x"})
    assert bad_embedder.returncode == 2 and "Traceback" not in bad_embedder.stderr


def test_every_command_has_help_and_is_documented() -> None:
    docs = (ROOT / "docs" / "cli.md").read_text()
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    names += [g.name for g in app.registered_groups if g.name]
    assert {"index", "search", "status", "mcp", "memory"} <= set(names)
    for name in names:
        result = run(name, "--help")
        assert result.returncode == 0 and "Usage" in result.stdout, name
        assert f"contextos {name}" in docs, f"docs/cli.md does not document `{name}`"


def test_schema_docs_are_generated_from_the_migrations() -> None:
    from contextos.code.schema import MIGRATIONS
    from contextos.store.docs import schema_markdown

    expected = schema_markdown("Workspace database schema", MIGRATIONS)
    assert (ROOT / "docs" / "schema.md").read_text() == expected + "\n", (
        "regenerate with: python -m contextos.store.docs > docs/schema.md"
    )

"""The CLI through its real entry point (the installed console script), and docs coverage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


# (command line, what the one line says); {w} is an empty directory, {missing} does not exist.
USER_MISTAKES = [
    (["index", "{missing}"], "workspace path does not exist"),
    (["index", "--nope"], "no such option: --nope (see `contextos index --help`)"),
    (["status", "{missing}"], "workspace path does not exist"),
    (["search", "  ", "-p", "{w}"], "empty query"),
    (["search", "x", "--mode", "fuzzy", "-p", "{w}"], "unknown search mode 'fuzzy'"),
    (["search", "x", "-k", "0", "-p", "{w}"], "invalid value for '--k'"),
    (["context", "fix it", "--budget", "0", "-p", "{w}"], "invalid value for '--budget'"),
    (["context", "fix it", "--budget", "lots", "-p", "{w}"], "invalid value for '--budget'"),
    (["context", "fix it", "--json", "--html", "{w}/a.html", "-p", "{w}"], "choose one of"),
    (["context", "fix it", "--html", "{missing}/a.html", "-p", "{w}"], "cannot write"),
    (["context", "fix it", "-p", "{missing}"], "workspace path does not exist"),
    (["remember", ""], "empty memory"),
    (["remember", "tabs", "--scope", "galaxy"], "invalid scope 'galaxy'"),
    (["recall", ""], "empty query"),
    (["recall", "tabs", "--as-of", "yesterday"], "not an ISO-8601 date-time"),
    (["recall", "tabs", "--expand"], "no model configured"),
    (["memory"], "missing command"),
    (["memory", "show", "0123456789ab"], "unknown memory id '0123456789ab'"),
    (["memory", "edit", "0123456789ab", "spaces"], "unknown memory id"),
    (["memory", "forget", "0123456789ab"], "unknown memory id"),
    (["memory", "history", "0123456789ab"], "unknown memory id"),
    (["memory", "list", "--scope", "galaxy"], "invalid scope 'galaxy'"),
    (["memory", "extract", "--transcript", "{missing}"], "cannot read transcript"),
    (["memory", "consolidate", "--min-score", "9"], "invalid value for '--min-score'"),
    (["memory", "export", "{w}/out", "--format", "pdf"], "unknown format 'pdf'"),
    (["memory", "import", "{missing}"], "is not a directory"),
    (["mcp", "{missing}"], "workspace path does not exist"),
    (["mcp", "--transport", "smoke"], "invalid value for '--transport'"),
    (["mcp", "install", "--client", "vim", "--yes"], "unknown client 'vim'"),
    (["frobnicate"], "no such command 'frobnicate'"),
]


@pytest.mark.parametrize(("args", "says"), USER_MISTAKES, ids=lambda v: " ".join(v)[:40])
def test_every_user_mistake_is_one_error_line_and_exit_2(
    args: list[str], says: str, tmp_path: Path
) -> None:
    (tmp_path / "w").mkdir()
    where = {"w": str(tmp_path / "w"), "missing": str(tmp_path / "missing")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTEXTOS_MODEL")}
    result = subprocess.run(
        [str(SCRIPT), *(a.format(**where) for a in args)],
        capture_output=True,
        text=True,
        env={**env, "CONTEXTOS_EMBEDDER": "none", "HOME": str(tmp_path)},
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    (line,) = result.stderr.splitlines()
    assert (result.returncode, result.stdout) == (2, "")
    assert line.startswith("error: ") and says in line, line


def test_every_command_goes_through_the_one_error_handler() -> None:
    groups = [app, *(g.typer_instance for g in app.registered_groups if g.typer_instance)]
    commands = [c for group in groups for c in group.registered_commands]
    assert len(commands) == 3 + 1 + 2 + 9 + 2 + 1 + 1 + 1 + 1 + 3 + 1 + 2
    for command in commands:
        assert hasattr(command.callback, "__wrapped__"), command.callback


def test_help_imports_neither_numpy_nor_mcp_nor_the_library() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "contextos", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "Usage" in result.stdout
    lines = [line.split("|")[-1] for line in result.stderr.splitlines() if "|" in line]
    modules = {line.strip() for line in lines}
    assert "contextos.cli" in modules
    heavy = ("numpy", "mcp", "tree_sitter", "pydantic", "contextos.memory", "contextos.workspace")
    assert sorted(m for m in modules if m.startswith(heavy)) == []


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

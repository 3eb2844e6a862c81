"""``contextos mcp install`` through the console script, into a temporary HOME and project:
each client's file gets the contextos entry, other servers and keys survive, a diff is shown
first, and nothing is written without --yes when there is no terminal to ask on."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "contextos"
OTHER = {"command": "npx", "args": ["-y", "other-server"]}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    return path


def install(home: Path, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home)}
    env.pop("CODEX_HOME", None)
    return subprocess.run(
        [str(SCRIPT), "mcp", "install", "--path", str(project), *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def expected_entry(project: Path) -> dict[str, object]:
    return {"command": str(SCRIPT), "args": ["mcp", str(project.resolve())]}


def test_claude_project_config_keeps_other_servers(home: Path, project: Path) -> None:
    config = project / ".mcp.json"
    config.write_text(json.dumps({"mcpServers": {"other": OTHER}}, indent=2) + "\n")
    result = install(home, project, "--client", "claude", "--project", "--yes")
    assert result.returncode == 0, result.stderr
    assert f"+++ {config}" in result.stdout and '+    "contextos": {' in result.stdout
    assert json.loads(config.read_text()) == {
        "mcpServers": {"other": OTHER, "contextos": {"type": "stdio", **expected_entry(project)}}
    }
    again = install(home, project, "--client", "claude", "--project", "--yes")
    assert again.returncode == 0 and "nothing to change" in again.stderr


def test_claude_user_scope_merges_into_claude_json(home: Path, project: Path) -> None:
    state = {"numStartups": 7, "projects": {"/x": {"mcpServers": {}}}, "mcpServers": {"o": OTHER}}
    (home / ".claude.json").write_text(json.dumps(state))
    result = install(home, project, "--client", "claude", "--yes", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["path"], report["written"]) == (str(home / ".claude.json"), True)
    written = json.loads((home / ".claude.json").read_text())
    assert written == {
        **state,
        "mcpServers": {"o": OTHER, "contextos": {"type": "stdio", **expected_entry(project)}},
    }


@pytest.mark.parametrize("scope", ["--project", "--user"])
def test_cursor_config_for_project_or_user(home: Path, project: Path, scope: str) -> None:
    base = project if scope == "--project" else home
    config = base / ".cursor" / "mcp.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"mcpServers": {"other": OTHER}, "theme": "dark"}))
    flags = ["--project"] if scope == "--project" else []
    result = install(home, project, "--client", "cursor", *flags, "--yes")
    assert result.returncode == 0, result.stderr
    assert json.loads(config.read_text()) == {
        "mcpServers": {"other": OTHER, "contextos": expected_entry(project)},
        "theme": "dark",
    }


def test_codex_config_toml_keeps_comments_and_other_tables(home: Path, project: Path) -> None:
    config = home / ".codex" / "config.toml"
    config.parent.mkdir()
    original = (
        '# my settings\nmodel = "o3"\n\n[mcp_servers.other]\ncommand = "npx"\n'
        'args = ["-y", "other-server"]  # keep me\n'
    )
    config.write_text(original)
    result = install(home, project, "--client", "codex", "--yes")
    assert result.returncode == 0, result.stderr
    text = config.read_text()
    assert text.startswith(original)
    assert tomllib.loads(text) == {
        "model": "o3",
        "mcp_servers": {"other": OTHER, "contextos": expected_entry(project)},
    }
    assert "+[mcp_servers.contextos]" in result.stdout


def test_codex_config_is_created_when_missing(home: Path, project: Path) -> None:
    result = install(home, project, "--client", "codex", "--yes")
    assert result.returncode == 0, result.stderr
    config = tomllib.loads((home / ".codex" / "config.toml").read_text())
    assert config == {"mcp_servers": {"contextos": expected_entry(project)}}
    assert "--- /dev/null" in result.stdout


def test_without_yes_and_without_a_terminal_nothing_is_written(home: Path, project: Path) -> None:
    config = project / ".mcp.json"
    config.write_text('{"mcpServers": {}}\n')
    result = install(home, project, "--client", "claude", "--project")
    assert result.returncode == 2
    assert "re-run with --yes" in result.stderr and "+++" in result.stdout
    assert config.read_text() == '{"mcpServers": {}}\n'


def test_a_config_that_does_not_parse_is_never_overwritten(home: Path, project: Path) -> None:
    config = project / ".cursor" / "mcp.json"
    config.parent.mkdir()
    config.write_text("{not json")
    result = install(home, project, "--client", "cursor", "--project", "--yes")
    assert result.returncode == 2 and "not valid JSON" in result.stderr
    assert config.read_text() == "{not json"
    unknown = install(home, project, "--client", "vim", "--yes")
    assert unknown.returncode == 2 and "unknown client 'vim'" in unknown.stderr


@pytest.mark.parametrize(("answer", "written"), [(b"y\n", True), (b"n\n", False)])
def test_on_a_terminal_it_asks_before_writing(
    home: Path, project: Path, answer: bytes, written: bool
) -> None:
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [str(SCRIPT), "mcp", "install", "--path", str(project), "--client", "cursor", "--project"],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HOME": str(home)},
    )
    os.close(follower)
    try:
        os.write(leader, answer)
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(leader)
    assert "Write " in out and "+++ " in out
    assert ("wrote " if written else "nothing written") in err
    assert (proc.returncode, (project / ".cursor" / "mcp.json").exists()) == (
        (0, True) if written else (1, False)
    )

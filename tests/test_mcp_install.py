"""``contextos mcp install`` through the console script, into a temporary HOME and project:
each client's file gets the contextos entry, other servers and keys survive, a diff is shown
first, and nothing is written without --yes when there is no terminal to ask on. The entry passes
our CONTEXTOS_* environment on (never a secret's value, never this machine's paths in a shared
project file), a re-install keeps what the user added to the entry, and the notes say what the
client still needs (approval, trust)."""

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
SECRET = "sk-proj-not-a-real-key-0123456789abcdef"
SYSTEM_PATH = "/usr/bin:/bin"


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


def install(
    home: Path,
    project: Path,
    *args: str,
    env: dict[str, str] | None = None,
    path: str = f"{SCRIPT.parent}{os.pathsep}{SYSTEM_PATH}",
) -> subprocess.CompletedProcess[str]:
    """Run the command with only the CONTEXTOS_* variables in ``env`` and the given PATH."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("CONTEXTOS_")}
    base.pop("CODEX_HOME", None)
    return subprocess.run(
        [str(SCRIPT), "mcp", "install", "--path", str(project), *args],
        capture_output=True,
        text=True,
        env={**base, "HOME": str(home), "PATH": path, **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def expected_entry(project: Path) -> dict[str, object]:
    return {"command": str(SCRIPT), "args": ["mcp", str(project.resolve())]}


def codex_entry(project: Path) -> dict[str, object]:
    return {**expected_entry(project), "startup_timeout_sec": 30}


def notes_of(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    notes: list[str] = json.loads(result.stdout)["notes"]
    return notes


def test_claude_project_config_keeps_other_servers(home: Path, project: Path) -> None:
    config = project / ".mcp.json"
    config.write_text(json.dumps({"mcpServers": {"other": OTHER}}, indent=2) + "\n")
    result = install(home, project, "--client", "claude", "--project", "--yes")
    assert result.returncode == 0, result.stderr
    assert f"+++ {config}" in result.stdout and '+    "contextos": {' in result.stdout
    assert json.loads(config.read_text()) == {
        "mcpServers": {
            "other": OTHER,
            "contextos": {"type": "stdio", "command": "contextos", "args": ["mcp", "."]},
        }
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
    entry = (
        {"command": "contextos", "args": ["mcp", "${workspaceFolder}"]}
        if scope == "--project"
        else expected_entry(project)
    )
    assert json.loads(config.read_text()) == {
        "mcpServers": {"other": OTHER, "contextos": entry},
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
        "mcp_servers": {"other": OTHER, "contextos": codex_entry(project)},
    }
    assert "+[mcp_servers.contextos]" in result.stdout


def test_codex_config_is_created_when_missing(home: Path, project: Path) -> None:
    result = install(home, project, "--client", "codex", "--yes")
    assert result.returncode == 0, result.stderr
    config = tomllib.loads((home / ".codex" / "config.toml").read_text())
    assert config == {"mcp_servers": {"contextos": codex_entry(project)}}
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


def test_codex_entry_forwards_contextos_variable_names_and_waits_30_seconds(
    home: Path, project: Path
) -> None:
    env = {"CONTEXTOS_HOME": "/data/ctx", "CONTEXTOS_OFFLINE": "1", "X_OTHER": "1"}
    result = install(
        home, project, "--client", "codex", "--yes", env={**env, "CONTEXTOS_EMBED_API_KEY": SECRET}
    )
    assert result.returncode == 0, result.stderr
    text = (home / ".codex" / "config.toml").read_text()
    assert SECRET not in text and SECRET not in result.stdout + result.stderr
    assert tomllib.loads(text) == {
        "mcp_servers": {
            "contextos": {
                **expected_entry(project),
                "env_vars": ["CONTEXTOS_EMBED_API_KEY", "CONTEXTOS_HOME", "CONTEXTOS_OFFLINE"],
                "startup_timeout_sec": 30,
            }
        }
    }


@pytest.mark.parametrize(
    ("client", "config", "kind"),
    [
        ("claude", ".claude.json", {"type": "stdio"}),
        ("cursor", ".cursor/mcp.json", {}),
    ],
)
def test_json_entry_carries_contextos_values_but_never_a_secret(
    home: Path, project: Path, client: str, config: str, kind: dict[str, str]
) -> None:
    env = {"CONTEXTOS_HOME": "/data/ctx", "CONTEXTOS_OFFLINE": "1"}
    result = install(
        home, project, "--client", client, "--yes", env={**env, "CONTEXTOS_EMBED_API_KEY": SECRET}
    )
    assert result.returncode == 0, result.stderr
    text = (home / config).read_text()
    assert SECRET not in text and SECRET not in result.stdout + result.stderr
    assert json.loads(text) == {
        "mcpServers": {"contextos": {**kind, **expected_entry(project), "env": env}}
    }
    [note] = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert "CONTEXTOS_EMBED_API_KEY (looks like a secret)" in note


def test_codex_reinstall_keeps_the_users_keys_and_comments(home: Path, project: Path) -> None:
    config = home / ".codex" / "config.toml"
    config.parent.mkdir()
    config.write_text(
        "[mcp_servers.contextos]\n"
        "# pinned by me\n"
        'command = "/old/bin/contextos"\n'
        'args = ["mcp", "/old/root"]\n'
        "startup_timeout_sec = 60\n"
        'env_vars = ["MY_PROXY", "CONTEXTOS_OFFLINE"]\n'
        "enabled = true\n\n"
        "[mcp_servers.contextos.env]\n"
        'RUST_LOG = "debug"\n'
    )
    env = {"CONTEXTOS_HOME": "/data/ctx", "CONTEXTOS_OFFLINE": "1"}
    result = install(home, project, "--client", "codex", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    text = config.read_text()
    assert "# pinned by me\n" in text
    assert tomllib.loads(text) == {
        "mcp_servers": {
            "contextos": {
                **expected_entry(project),
                "startup_timeout_sec": 60,
                "env_vars": ["MY_PROXY", "CONTEXTOS_OFFLINE", "CONTEXTOS_HOME"],
                "enabled": True,
                "env": {"RUST_LOG": "debug"},
            }
        }
    }
    assert_reinstall_changes_nothing(home, project, config, "--client", "codex", env=env)


@pytest.mark.parametrize(
    ("client", "config", "kind"),
    [("claude", ".claude.json", {"type": "stdio"}), ("cursor", ".cursor/mcp.json", {})],
)
def test_json_reinstall_keeps_the_users_keys_and_env(
    home: Path, project: Path, client: str, config: str, kind: dict[str, str]
) -> None:
    path = home / config
    path.parent.mkdir(exist_ok=True)
    user_entry = {
        "command": "/old/bin/contextos",
        "args": ["mcp", "/old/root"],
        "env": {"DEBUG": "1", "CONTEXTOS_HOME": "/old/ctx"},
        "timeout": 60,
    }
    path.write_text(json.dumps({"mcpServers": {"contextos": user_entry}}))
    env = {"CONTEXTOS_HOME": "/data/ctx", "CONTEXTOS_OFFLINE": "1"}
    result = install(home, project, "--client", client, "--yes", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(path.read_text())["mcpServers"]["contextos"] == {
        **expected_entry(project),
        "env": {"DEBUG": "1", "CONTEXTOS_HOME": "/data/ctx", "CONTEXTOS_OFFLINE": "1"},
        "timeout": 60,
        **kind,
    }
    assert_reinstall_changes_nothing(home, project, path, "--client", client, env=env)


def assert_reinstall_changes_nothing(
    home: Path, project: Path, config: Path, *args: str, env: dict[str, str]
) -> None:
    before = (config.read_text(), config.stat().st_ino, config.stat().st_mtime_ns)
    again = install(home, project, *args, "--yes", env=env)
    assert again.returncode == 0, again.stderr
    assert "nothing to change" in again.stderr and again.stdout == ""
    assert (config.read_text(), config.stat().st_ino, config.stat().st_mtime_ns) == before


@pytest.mark.parametrize(
    ("client", "config", "entry"),
    [
        ("claude", ".mcp.json", {"type": "stdio", "args": ["mcp", "."]}),
        ("cursor", ".cursor/mcp.json", {"args": ["mcp", "${workspaceFolder}"]}),
    ],
)
def test_project_file_names_no_path_of_this_machine(
    home: Path, project: Path, client: str, config: str, entry: dict[str, object]
) -> None:
    env = {"CONTEXTOS_HOME": str(home / "ctx"), "CONTEXTOS_OFFLINE": "1"}
    result = install(home, project, "--client", client, "--project", "--yes", "--json", env=env)
    text = (project / config).read_text()
    assert str(home) not in text and str(project) not in text
    assert json.loads(text)["mcpServers"]["contextos"] == {
        "command": "contextos",
        **entry,
        "env": {"CONTEXTOS_OFFLINE": "1"},
    }
    assert any("CONTEXTOS_HOME (a path on this machine)" in note for note in notes_of(result))


@pytest.mark.parametrize("other_contextos_on_path", [False, True])
def test_project_file_falls_back_to_the_absolute_script_with_a_note(
    home: Path, project: Path, tmp_path: Path, other_contextos_on_path: bool
) -> None:
    other = tmp_path / "other-bin" / "contextos"
    other.parent.mkdir()
    other.write_text("#!/bin/sh\n")
    other.chmod(0o755)
    path = f"{other.parent}:{SYSTEM_PATH}" if other_contextos_on_path else SYSTEM_PATH
    result = install(home, project, "--client", "cursor", "--project", "--yes", "--json", path=path)
    written = json.loads((project / ".cursor" / "mcp.json").read_text())
    assert written["mcpServers"]["contextos"] == {
        "command": str(SCRIPT),
        "args": ["mcp", "${workspaceFolder}"],
    }
    why = f"on PATH is {other}, not this installation" if other_contextos_on_path else None
    assert notes_of(result) == [
        f"`contextos` {why or 'is not on PATH'}: the shared {project.resolve()}/.cursor/mcp.json "
        f"runs {SCRIPT}, a path on this machine"
    ]


def test_claude_project_note_says_how_to_approve_until_it_is_approved(
    home: Path, project: Path
) -> None:
    first = install(home, project, "--client", "claude", "--project", "--yes", "--json")
    root = project.resolve()
    assert notes_of(first) == [
        f"Claude Code asks before starting servers from {root}/.mcp.json: run `claude` in "
        f'{root} and approve contextos, or add "contextos" to "enabledMcpjsonServers" in '
        f"{root}/.claude/settings.local.json"
    ]
    (project / ".claude").mkdir()
    (project / ".claude" / "settings.local.json").write_text(
        json.dumps({"enabledMcpjsonServers": ["other", "contextos"]})
    )
    again = install(home, project, "--client", "claude", "--project", "--yes", "--json")
    assert notes_of(again) == []
    user_scope = install(home, project, "--client", "claude", "--yes", "--json")
    assert notes_of(user_scope) == []


def test_codex_project_notes_trust_and_the_absolute_root(home: Path, project: Path) -> None:
    env = {"CONTEXTOS_HOME": str(home / "ctx")}
    result = install(home, project, "--client", "codex", "--project", "--yes", "--json", env=env)
    root = project.resolve()
    config = root / ".codex" / "config.toml"
    assert tomllib.loads(config.read_text()) == {
        "mcp_servers": {
            "contextos": {
                "command": "contextos",
                "args": ["mcp", str(root)],
                "env_vars": ["CONTEXTOS_HOME"],
                "startup_timeout_sec": 30,
            }
        }
    }
    user_config = home / ".codex" / "config.toml"
    assert notes_of(result) == [
        f"{config} names {root}: Codex documents no relative working directory for MCP "
        "servers, so a teammate with another checkout path must edit args",
        f'Codex reads {config} only in trusted projects: add [projects."{root}"] trust_level = '
        f'"trusted" to {user_config}, or trust the folder when Codex asks',
    ]
    assert not user_config.exists()
    user_config.parent.mkdir()
    user_config.write_text(f'[projects."{root}"]\ntrust_level = "trusted"\n')
    again = install(home, project, "--client", "codex", "--project", "--yes", "--json", env=env)
    assert [note for note in notes_of(again) if "trusted" in note] == []
    assert json.loads(again.stdout)["changed"] is False


def test_human_output_prints_the_notes_after_writing(home: Path, project: Path) -> None:
    result = install(home, project, "--client", "claude", "--project", "--yes")
    assert result.returncode == 0, result.stderr
    wrote, note = result.stderr.splitlines()[-2:]
    assert wrote == f"wrote {project.resolve()}/.mcp.json"
    assert note.startswith("note: Claude Code asks before starting servers from ")

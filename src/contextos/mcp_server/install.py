"""Register the contextos MCP server in a client's config file, merging, never clobbering.

    plan = plan_install("cursor", root, project=True)   # reads, merges, renders; writes nothing
    print(plan.diff); print(plan.notes); apply(plan)     # atomic replace, file mode kept

Config files (``home`` is ``$HOME``):

    claude  project  <root>/.mcp.json                 {"mcpServers": {"contextos": {...}}}
            user     <home>/.claude.json               top-level "mcpServers" (Claude Code's
                                                      user scope; the file also holds its state)
    cursor  project  <root>/.cursor/mcp.json          {"mcpServers": {...}}
            user     <home>/.cursor/mcp.json
    codex   project  <root>/.codex/config.toml        [mcp_servers.contextos] (trusted projects)
            user     $CODEX_HOME/config.toml, default <home>/.codex/config.toml

Merging: we own ``command``, ``args``, ``type`` (Claude) and the ``CONTEXTOS_*`` entries we add to
``env`` (JSON) or ``env_vars`` (Codex); we add to those, never remove from them, and every other
key of the entry, every other server and every other key of the file stays as the user left it.
``startup_timeout_sec = 30`` is added to a Codex entry only when it has no timeout. JSON is
re-serialised with two-space indents; TOML is edited in place with ``tomlkit`` so comments and
layout survive. An unchanged entry leaves the file untouched; a file that does not parse is
refused, not overwritten.

The environment at install time: a client does not necessarily pass ours on. Codex starts stdio
servers with a cleared environment plus a fixed list (HOME, PATH, ...) plus the names in
``env_vars`` (openai/codex#5246), so a Codex entry lists every ``CONTEXTOS_*`` name set now, names
only. JSON entries get ``"env": {NAME: value}``, except secrets (a secret-looking name or value,
``contextos.secrets.is_secret_env``; never written to a file) and, in project files (shared with
a team), values that are paths on this machine; both are reported in ``plan.notes`` instead.

Project files avoid this machine's paths where the client allows it. The command is
``contextos`` when PATH finds this very installation, else the absolute script (with a note).
The workspace argument relies on: Claude Code starting stdio servers in the directory it was
launched in, which for a project's ``.mcp.json`` is the project root (anthropics/claude-code#17565),
so ``.``; Cursor expanding ``${workspaceFolder}`` in ``args`` (Cursor's mcp.json docs, "config
interpolation"); Codex has a ``cwd`` key but documents no relative path or default working
directory, so a Codex project entry keeps the absolute root and a note says teammates must adjust.
Notes also say what the client needs before it starts the server: Claude Code asks approval for
``.mcp.json`` servers unless ``enabledMcpjsonServers`` in ``.claude/settings*.json`` lists them;
Codex reads ``.codex/config.toml`` only in a project its user config marks
``trust_level = "trusted"`` (openai/codex#9533). Neither is written for the user.
Left out: removing the entry, and any removal of env entries.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import tomlkit
from tomlkit.exceptions import TOMLKitError

from contextos.errors import UserInputError
from contextos.secrets import is_secret_env

__all__ = [
    "CLIENTS",
    "Client",
    "InstallPlan",
    "apply",
    "config_path",
    "plan_install",
    "server_command",
]

Client = Literal["claude", "cursor", "codex"]
CLIENTS: tuple[str, ...] = ("claude", "cursor", "codex")
SERVER_NAME = "contextos"
ENV_PREFIX = "CONTEXTOS_"
CODEX_STARTUP_TIMEOUT_SEC = 30
_PATH_WORDS = frozenset({"HOME", "DIR", "PATH", "FILE", "ROOT"})


@dataclass(frozen=True, slots=True)
class InstallPlan:
    """What ``apply`` would write: the file, its current text ('' if absent) and the new text.

    ``notes`` are one-line messages for the user: values left out of the file and why, and what
    the client needs before it will start the server.
    """

    client: str
    path: Path
    old: str
    new: str
    command: str
    args: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.old != self.new

    @property
    def diff(self) -> str:
        before = str(self.path) if self.path.exists() else "/dev/null"
        lines = difflib.unified_diff(
            self.old.splitlines(keepends=True),
            self.new.splitlines(keepends=True),
            fromfile=before,
            tofile=str(self.path),
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _launcher() -> tuple[str, list[str]]:
    """This installation's absolute ``contextos`` script, or ``python -m contextos``."""
    script = Path(sys.executable).parent / "contextos"
    if not script.is_file():
        found = shutil.which("contextos")
        if found is None:
            return sys.executable, ["-m", "contextos"]
        script = Path(found)
    return str(script.absolute()), []


def server_command(root: Path) -> tuple[str, list[str]]:
    """The absolute ``contextos`` console script and ``mcp <root>`` (``python -m`` fallback)."""
    command, prefix = _launcher()
    return command, [*prefix, "mcp", str(root)]


def config_path(client: str, *, project: bool, root: Path, home: Path | None = None) -> Path:
    """Where ``client`` keeps its MCP servers, for the project at ``root`` or for the user."""
    home = home if home is not None else Path.home()
    if client == "claude":
        return root / ".mcp.json" if project else home / ".claude.json"
    if client == "cursor":
        return (root if project else home) / ".cursor" / "mcp.json"
    if client == "codex":
        if project:
            return root / ".codex" / "config.toml"
        codex_home = os.environ.get("CODEX_HOME")
        return (Path(codex_home) if codex_home else home / ".codex") / "config.toml"
    raise UserInputError(f"unknown client {client!r}: use one of {', '.join(CLIENTS)}")


def _is_local_path(name: str, value: str) -> bool:
    """A variable that names a place on this machine (CONTEXTOS_HOME, an absolute path)."""
    words = name.upper().split("_")
    return words[-1] in _PATH_WORDS or os.path.isabs(value) or value.startswith("~")


def plan_install(
    client: str,
    root: Path,
    *,
    project: bool,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> InstallPlan:
    """Read the client's config, merge the contextos entry in, and return the result unwritten.

    ``environ`` (default ``os.environ``) supplies the ``CONTEXTOS_*`` variables to pass on and
    the PATH that decides whether a project file can say just ``contextos``.
    """
    if not root.is_dir():
        raise UserInputError(f"workspace path is not a directory: {root}")
    environ = os.environ if environ is None else environ
    root = root.resolve()
    path = config_path(client, project=project, root=root, home=home)
    try:
        old = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"cannot read {path}: {exc}") from exc
    notes: list[str] = []
    command, prefix = _launcher()
    workspace = str(root)
    if project:
        command = _shared_command(command, prefix, path, environ, notes)
        prefix = [] if command == "contextos" else prefix
        workspace = {"claude": ".", "cursor": "${workspaceFolder}"}.get(client, workspace)
    args = [*prefix, "mcp", workspace]
    ours = {k: v for k, v in sorted(environ.items()) if k.startswith(ENV_PREFIX) and v}
    if client == "codex":
        new = _merge_toml(path, old, {"command": command, "args": args}, list(ours))
        if project:
            notes += _codex_project_notes(path, root, home)
    else:
        owned: dict[str, Any] = {"command": command, "args": args}
        if client == "claude":
            owned = {"type": "stdio", **owned}
        new = _merge_json(path, old, owned, _json_env(ours, path, project, notes))
        if client == "claude" and project and not _claude_approved(root):
            notes.append(
                f"Claude Code asks before starting servers from {path}: run `claude` in {root} "
                f'and approve contextos, or add "contextos" to "enabledMcpjsonServers" in '
                f"{root / '.claude' / 'settings.local.json'}"
            )
    return InstallPlan(client, path, old, new, command, tuple(args), tuple(notes))


def _shared_command(
    command: str, prefix: list[str], path: Path, environ: Mapping[str, str], notes: list[str]
) -> str:
    """``contextos`` if PATH finds this installation's script, else ``command`` and a note."""
    found = shutil.which("contextos", path=environ.get("PATH", os.defpath))
    if not prefix and found is not None:
        try:
            if os.path.samefile(found, command):
                return "contextos"
        except OSError:
            pass
    where = "is not on PATH" if found is None else f"on PATH is {found}, not this installation"
    notes.append(f"`contextos` {where}: the shared {path} runs {command}, a path on this machine")
    return command


def _json_env(ours: dict[str, str], path: Path, project: bool, notes: list[str]) -> dict[str, str]:
    """The ``env`` values a JSON entry may carry; what is held back is explained in ``notes``."""
    secrets = [name for name in ours if is_secret_env(name, ours[name])]
    local = [n for n in ours if project and n not in secrets and _is_local_path(n, ours[n])]
    if secrets:
        notes.append(
            f"not written to {path}: {', '.join(secrets)} (looks like a secret); the client "
            "must inherit it from the environment it starts in"
        )
    if local:
        notes.append(
            f"not written to the shared {path}: {', '.join(local)} (a path on this machine); set "
            "it where the client starts, or install without --project"
        )
    return {k: v for k, v in ours.items() if k not in secrets and k not in local}


def _claude_approved(root: Path) -> bool:
    """Whether ``.claude/settings*.json`` already enables the contextos ``.mcp.json`` server."""
    for name in ("settings.local.json", "settings.json"):
        try:
            data = json.loads((root / ".claude" / name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if not isinstance(data, dict):
            continue
        enabled = data.get("enabledMcpjsonServers")
        if data.get("enableAllProjectMcpServers") is True or (
            isinstance(enabled, list) and SERVER_NAME in enabled
        ):
            return True
    return False


def _codex_project_notes(path: Path, root: Path, home: Path | None) -> list[str]:
    notes = [
        f"{path} names {root}: Codex documents no relative working directory for MCP servers, "
        "so a teammate with another checkout path must edit args"
    ]
    user_config = config_path("codex", project=False, root=root, home=home)
    try:
        projects = tomllib.loads(user_config.read_text(encoding="utf-8")).get("projects", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        projects = {}
    entry = projects.get(str(root)) if isinstance(projects, dict) else None
    if not (isinstance(entry, dict) and entry.get("trust_level") == "trusted"):
        notes.append(
            f"Codex reads {path} only in trusted projects: add [projects.{json.dumps(str(root))}] "
            f'trust_level = "trusted" to {user_config}, or trust the folder when Codex asks'
        )
    return notes


def _merge_json(path: Path, old: str, owned: dict[str, Any], env: dict[str, str]) -> str:
    try:
        data = json.loads(old) if old.strip() else {}
    except json.JSONDecodeError as exc:
        raise UserInputError(
            f"{path} is not valid JSON ({exc}); fix it first, nothing written"
        ) from exc
    if not isinstance(data, dict):
        raise UserInputError(f"{path} does not hold a JSON object; fix it first, nothing written")
    servers = data.setdefault("mcpServers", {})
    if not isinstance(servers, dict):
        raise UserInputError(f'"mcpServers" in {path} is not an object; fix it first')
    current = servers.get(SERVER_NAME, {})
    if not isinstance(current, dict) or not isinstance(current.get("env", {}), dict):
        raise UserInputError(f'"mcpServers.contextos" in {path} is not an object; fix it first')
    entry = {**current, **owned}
    if env:
        entry["env"] = {**current.get("env", {}), **env}
    if SERVER_NAME in servers and entry == current:
        return old
    servers[SERVER_NAME] = entry
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _merge_toml(path: Path, old: str, owned: dict[str, Any], env_vars: list[str]) -> str:
    try:
        doc = tomlkit.parse(old)
    except TOMLKitError as exc:
        raise UserInputError(
            f"{path} is not valid TOML ({exc}); fix it first, nothing written"
        ) from exc
    servers = doc.get("mcp_servers")
    if servers is None:
        servers = tomlkit.table(is_super_table=True)
        doc["mcp_servers"] = servers
    if not isinstance(servers, dict):
        raise UserInputError(f"mcp_servers in {path} is not a table; fix it first")
    entry = servers.get(SERVER_NAME)
    if entry is None:
        entry = tomlkit.table()
        servers[SERVER_NAME] = entry
    if not isinstance(entry, dict) or not isinstance(entry.get("env_vars", []), list):
        raise UserInputError(f"mcp_servers.contextos in {path} is not a table; fix it first")
    for key, value in owned.items():
        if entry.get(key) != value:
            entry[key] = value
    if "env_vars" in entry:
        entry["env_vars"].extend([n for n in env_vars if n not in entry["env_vars"]])
    elif env_vars:
        entry["env_vars"] = env_vars
    if "startup_timeout_sec" not in entry and "startup_timeout_ms" not in entry:
        entry["startup_timeout_sec"] = CODEX_STARTUP_TIMEOUT_SEC
    text = tomlkit.dumps(doc)
    if text == old:
        return old
    return text if text.endswith("\n") else text + "\n"


def apply(plan: InstallPlan) -> None:
    """Write ``plan.new`` atomically (temp file + rename), keeping the old file's mode."""
    plan.path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{plan.path.name}.", dir=plan.path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(plan.new)
        if plan.path.exists():
            shutil.copymode(plan.path, tmp)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, plan.path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UserInputError(f"cannot write {plan.path}: {exc}") from exc

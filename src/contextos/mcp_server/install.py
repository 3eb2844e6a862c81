"""Register the contextos MCP server in a client's config file, merging, never clobbering.

    plan = plan_install("cursor", root, project=True)   # reads, merges, renders; writes nothing
    print(plan.diff); apply(plan)                        # atomic replace, file mode kept

Config files (``home`` is ``$HOME``):

    claude  project  <root>/.mcp.json                 {"mcpServers": {"contextos": {...}}}
            user     <home>/.claude.json               top-level "mcpServers" (Claude Code's
                                                      user scope; the file also holds its state)
    cursor  project  <root>/.cursor/mcp.json          {"mcpServers": {...}}
            user     <home>/.cursor/mcp.json
    codex   project  <root>/.codex/config.toml        [mcp_servers.contextos] (trusted projects)
            user     $CODEX_HOME/config.toml, default <home>/.codex/config.toml

Only the ``contextos`` entry is added or replaced; every other server and key is kept (JSON is
re-serialised with two-space indents; TOML is edited with ``tomlkit`` so comments and layout
survive). A file that does not parse is refused, not overwritten. Left out: removing the entry.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import tomlkit
from tomlkit.exceptions import TOMLKitError

from contextos.errors import UserInputError

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


@dataclass(frozen=True, slots=True)
class InstallPlan:
    """What ``apply`` would write: the file, its current text ('' if absent) and the new text."""

    client: str
    path: Path
    old: str
    new: str
    command: str
    args: tuple[str, ...]

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


def server_command(root: Path) -> tuple[str, list[str]]:
    """The absolute ``contextos`` console script and ``mcp <root>`` (``python -m`` fallback)."""
    script = Path(sys.executable).parent / "contextos"
    if not script.is_file():
        found = shutil.which("contextos")
        if found is None:
            return sys.executable, ["-m", "contextos", "mcp", str(root)]
        script = Path(found)
    return str(script.absolute()), ["mcp", str(root)]


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


def plan_install(
    client: str, root: Path, *, project: bool, home: Path | None = None
) -> InstallPlan:
    """Read the client's config, merge the contextos entry in, and return the result unwritten."""
    if not root.is_dir():
        raise UserInputError(f"workspace path is not a directory: {root}")
    root = root.resolve()
    path = config_path(client, project=project, root=root, home=home)
    try:
        old = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"cannot read {path}: {exc}") from exc
    command, args = server_command(root)
    if client == "codex":
        new = _merge_toml(path, old, {"command": command, "args": args})
    else:
        entry: dict[str, Any] = {"command": command, "args": args}
        if client == "claude":
            entry = {"type": "stdio", **entry}
        new = _merge_json(path, old, entry)
    return InstallPlan(client, path, old, new, command, tuple(args))


def _merge_json(path: Path, old: str, entry: dict[str, Any]) -> str:
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
    if servers.get(SERVER_NAME) == entry:
        return old
    servers[SERVER_NAME] = entry
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _merge_toml(path: Path, old: str, entry: dict[str, Any]) -> str:
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
    current = servers.get(SERVER_NAME)
    if current is not None and dict(current) == entry:
        return old
    table = tomlkit.table()
    table.update(entry)
    servers[SERVER_NAME] = table
    text = tomlkit.dumps(doc)
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

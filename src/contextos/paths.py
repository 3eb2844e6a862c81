"""What a workspace root is. Only the standard library, so checking a root costs nothing at
start-up (the MCP server refuses a bad root before it loads the index code).

Left out, for now: confining model- and user-supplied paths to the root, which
``Workspace.resolve_path`` and ``mcp_server/files.py`` still do each their own way.
"""

from __future__ import annotations

from pathlib import Path

from contextos.errors import UserInputError

__all__ = ["workspace_root"]


def workspace_root(path: Path | str) -> Path:
    """``path`` resolved, or ``UserInputError`` saying why it cannot be a workspace root."""
    candidate = Path(path).expanduser()
    if not candidate.exists():
        raise UserInputError(f"workspace path does not exist: {candidate}")
    if not candidate.is_dir():
        raise UserInputError(f"workspace path is not a directory: {candidate}")
    return candidate.resolve()

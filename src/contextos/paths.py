"""What a workspace root is, and what stays inside it. Only the standard library, so checking a
root costs nothing at start-up (the MCP server refuses a bad root before it loads the index code).

``confine`` is the one check for a path that comes from a model or a user: every tool that
takes one (MCP ``read_file``, ``Workspace.resolve_path``, the agent's tools) calls it, and a
refusal says which rule the path broke. Left out: deciding whether a confined file may be shown
(``contextos.secrets``) or is part of a walk (``contextos.walk``).
"""

from __future__ import annotations

from pathlib import Path

from contextos.errors import PathOutsideRootError, UserInputError

__all__ = ["confine", "workspace_root"]


def workspace_root(path: Path | str) -> Path:
    """``path`` resolved, or ``UserInputError`` saying why it cannot be a workspace root."""
    candidate = Path(path).expanduser()
    try:
        if not candidate.exists():
            raise UserInputError(f"workspace path does not exist: {candidate}")
        if not candidate.is_dir():
            raise UserInputError(f"workspace path is not a directory: {candidate}")
        return candidate.resolve()
    except OSError as exc:  # a name too long, a loop of links: the path cannot be a root
        shown = str(candidate) if len(str(candidate)) <= 200 else str(candidate)[:200] + "..."
        raise UserInputError(f"cannot use {shown} as a workspace: {exc.strerror or exc}") from exc


def confine(root: Path, path: str | Path) -> Path:
    """``path`` resolved inside ``root``, or a refusal naming the rule it broke.

    Relative paths are taken from ``root``; absolute paths are accepted when they lead inside
    it. Empty paths and NUL bytes are ``UserInputError``; ``..`` that climbs out, an absolute
    path elsewhere, and a symlink (or a path through one) that leads outside are
    ``PathOutsideRootError``. Symlinks that stay inside are followed: the result is the target.
    """
    text = str(path)
    if not text.strip():
        raise UserInputError("empty path: give a file path relative to the workspace root")
    if "\x00" in text:
        raise UserInputError("path contains a NUL byte")
    root = root.resolve()
    raw = Path(text)
    try:
        full = (raw if raw.is_absolute() else root / raw).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise UserInputError(f"cannot resolve path {text!r}: {exc}") from exc
    if full.is_relative_to(root):
        return full
    if raw.is_absolute():
        why = f"absolute path {text!r} is outside the workspace root {root}"
    elif ".." in raw.parts:
        why = f"path {text!r} climbs out of the workspace root {root} with '..'"
    else:
        why = f"path {text!r} is a symlink (or passes through one) that leads outside {root}"
    raise PathOutsideRootError(f"{why}; only files inside the workspace can be read")

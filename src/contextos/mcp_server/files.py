"""``read_file`` for models: a line range of a text file, confined to the workspace root.

Refused, each with a message that says what to do instead: paths that leave the root (``..``,
absolute paths elsewhere, symlinks that lead out), missing files, directories, binary files and
files that hold a private key or have a secret-looking name (``.env``, ``id_rsa``...). A read
returns at most ``MAX_LINES`` lines and ``MAX_CHARS`` characters and says where to continue.
Left out: writing, and reading anything the workspace root does not contain.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from contextos.code.walk import classify_content
from contextos.errors import PathOutsideRootError, UserInputError
from contextos.mcp_server.models import FileText

__all__ = ["MAX_CHARS", "MAX_LINES", "confine", "read_range"]

MAX_LINES = 2000
MAX_CHARS = 100_000
_HEAD = 8192
_SECRET_NAMES = (
    ".env",
    ".netrc",
    ".npmrc",
    ".pypirc",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
)
_SECRET_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".tfstate")


def confine(root: Path, path: str) -> Path:
    """``path`` resolved inside ``root`` (a resolved directory), or a clear refusal."""
    if not path.strip():
        raise UserInputError("empty path: give a file path relative to the workspace root")
    if "\x00" in path:
        raise UserInputError("path contains a NUL byte")
    raw = Path(path)
    full = (raw if raw.is_absolute() else root / raw).resolve()
    if full.is_relative_to(root):
        return full
    if raw.is_absolute():
        why = f"absolute path {path!r} is outside the workspace root {root}"
    elif ".." in raw.parts:
        why = f"path {path!r} climbs out of the workspace root {root} with '..'"
    else:
        why = f"path {path!r} is a symlink (or passes through one) that leads outside {root}"
    raise PathOutsideRootError(f"{why}; only files inside the workspace can be read")


def _is_secret_name(name: str) -> bool:
    lower = name.lower()
    return lower in _SECRET_NAMES or lower.startswith(".env.") or lower.endswith(_SECRET_SUFFIXES)


def read_range(root: Path, path: str, start_line: int = 1, end_line: int | None = None) -> FileText:
    """Lines ``start_line..end_line`` (1-based, inclusive; ``None``: as many as the cap allows)."""
    if start_line < 1:
        raise UserInputError(f"start_line must be at least 1, got {start_line}")
    if end_line is not None and end_line < start_line:
        raise UserInputError(f"end_line ({end_line}) is before start_line ({start_line})")
    full = confine(root, path)
    rel = full.relative_to(root).as_posix() or "."
    if full.is_dir():
        raise UserInputError(f"{rel!r} is a directory: give a file path (search_code lists files)")
    if not full.is_file():
        raise UserInputError(f"no such file: {rel!r} (paths are relative to {root})")
    if _is_secret_name(full.name):
        raise UserInputError(f"{rel!r} looks like a secrets file; it is not read through MCP")
    try:
        with open(full, "rb") as handle:
            head = handle.read(_HEAD)
            if classify_content(rel, head) == "binary":
                raise UserInputError(f"{rel!r} is a binary file; only text files can be read")
            handle.seek(0)
            return _collect(handle, rel, start_line, end_line)
    except OSError as exc:
        raise UserInputError(f"cannot read {rel!r}: {exc.strerror or exc}") from exc


def _collect(handle: BinaryIO, rel: str, start: int, end: int | None) -> FileText:
    last = start + MAX_LINES - 1 if end is None else min(end, start + MAX_LINES - 1)
    lines: list[str] = []
    chars = 0
    capped = False
    total = 0
    for total, raw in enumerate(handle, start=1):
        if capped or not start <= total <= last:
            continue
        line = raw.decode("utf-8", errors="replace")
        if lines and chars + len(line) > MAX_CHARS:
            capped = True
            continue
        lines.append(line[:MAX_CHARS])
        chars += len(line)
    if total and start > total:
        raise UserInputError(f"start_line {start} is past the end of {rel!r} ({total} lines)")
    text = "".join(lines)
    if classify_content(rel, text.encode("utf-8", errors="replace")) == "secret":
        raise UserInputError(f"{rel!r} holds a private key; it is not read through MCP")
    stop = start + len(lines) - 1 if lines else 0
    more = stop < (total if end is None else min(end, total))
    return FileText(
        path=rel,
        start_line=start,
        end_line=stop,
        total_lines=total,
        truncated=more,
        next_start_line=stop + 1 if more else None,
        text=text,
    )

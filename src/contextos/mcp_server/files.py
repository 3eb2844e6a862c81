"""``read_file`` for models: a line range of a text file, confined to the workspace root.

Refused, each with a message that says what to do instead: paths that leave the root
(``contextos.paths.confine``), missing files, directories, binary files, and secret files as
``contextos.secrets`` defines them (a secret-looking name, or a private key anywhere in the file,
not only in the range asked for): the same files the indexer refuses. A read returns at most
``MAX_LINES`` lines and ``MAX_CHARS`` characters and says where to continue.
Left out: writing, and reading anything the workspace root does not contain.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from contextos.errors import UserInputError
from contextos.mcp_server.models import FileText
from contextos.paths import confine
from contextos.secrets import holds_private_key, is_secret_file_name
from contextos.walk import classify_content

__all__ = ["MAX_CHARS", "MAX_LINES", "read_range"]

MAX_LINES = 2000
MAX_CHARS = 100_000
_HEAD = 8192


def read_range(root: Path, path: str, start_line: int = 1, end_line: int | None = None) -> FileText:
    """Lines ``start_line..end_line`` (1-based, inclusive; ``None``: as many as the cap allows)."""
    if start_line < 1:
        raise UserInputError(f"start_line must be at least 1, got {start_line}")
    if end_line is not None and end_line < start_line:
        raise UserInputError(f"end_line ({end_line}) is before start_line ({start_line})")
    full = confine(root, path)
    rel = full.relative_to(root).as_posix() or "."
    try:
        is_dir, is_file = full.is_dir(), full.is_file()
    except OSError as exc:  # e.g. a name longer than the file system allows
        shown = rel if len(rel) <= 80 else rel[:80] + "..."
        raise UserInputError(f"cannot read {shown!r}: {exc.strerror or exc}") from exc
    if is_dir:
        raise UserInputError(f"{rel!r} is a directory: give a file path (search_code lists files)")
    if not is_file:
        raise UserInputError(f"no such file: {rel!r} (paths are relative to {root})")
    if is_secret_file_name(full.name):
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
        if holds_private_key(raw):
            raise UserInputError(f"{rel!r} holds a private key; it is not read through MCP")
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

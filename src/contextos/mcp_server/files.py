"""``read_file`` for models: a line range of a text file, confined to the workspace root.

Refused, each with a message that says what to do instead: paths that leave the root
(``contextos.paths.confine``), missing files, directories, binary files, and secret files as
``contextos.secrets`` defines them: a secret path (the path asked for, or where its symlinks
lead), or secret content anywhere in the file (a private key, a dotenv file under another name,
a ``.git/config`` with credentials), not only in the range asked for. These are the files the
indexer refuses. Other files are served with secret values redacted the way the indexer stores
them, line for line, so line numbers agree with ``search_code``. A read returns at most
``MAX_LINES`` lines and ``MAX_CHARS`` characters and says where to continue.
Left out: writing, reading anything the workspace root does not contain, and files over
``MAX_FILE_BYTES`` (the whole file is judged, so it is read whole).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from contextos.errors import UserInputError
from contextos.mcp_server.models import FileText
from contextos.paths import confine
from contextos.secrets import holds_private_key, is_secret_content, is_secret_path, redact
from contextos.walk import classify_content

__all__ = ["MAX_CHARS", "MAX_FILE_BYTES", "MAX_LINES", "read_range"]

MAX_LINES = 2000
MAX_CHARS = 100_000
MAX_FILE_BYTES = 64 * 1024 * 1024
_HEAD = 8192
_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")


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
    asked = Path(os.path.normpath(root / path))
    named = asked.relative_to(root).as_posix() if asked.is_relative_to(root) else asked.name
    if is_secret_path(rel) or is_secret_path(named):
        raise UserInputError(f"{rel!r} looks like a secrets file; it is not read through MCP")
    try:
        if full.stat().st_size > MAX_FILE_BYTES:
            raise UserInputError(
                f"{rel!r} is over {MAX_FILE_BYTES >> 20} MiB; search it with search_code instead"
            )
        data = full.read_bytes()
    except OSError as exc:
        raise UserInputError(f"cannot read {rel!r}: {exc.strerror or exc}") from exc
    if classify_content(rel, data[:_HEAD]) == "binary":
        raise UserInputError(f"{rel!r} is a binary file; only text files can be read")
    if is_secret_content(data, rel):
        why = "holds a private key" if holds_private_key(data) else "holds secrets"
        raise UserInputError(f"{rel!r} {why}; it is not read through MCP")
    return _collect(redact(data.decode("utf-8", errors="replace")), rel, start_line, end_line)


def _collect(text: str, rel: str, start: int, end: int | None) -> FileText:
    every = _LINE.findall(text)
    total = len(every)
    if total and start > total:
        raise UserInputError(f"start_line {start} is past the end of {rel!r} ({total} lines)")
    last = start + MAX_LINES - 1 if end is None else min(end, start + MAX_LINES - 1)
    lines: list[str] = []
    chars = 0
    for line in every[start - 1 : last]:
        if lines and chars + len(line) > MAX_CHARS:
            break
        lines.append(line[:MAX_CHARS])
        chars += len(line)
    stop = start + len(lines) - 1 if lines else 0
    more = stop < (total if end is None else min(end, total))
    return FileText(
        path=rel,
        start_line=start,
        end_line=stop,
        total_lines=total,
        truncated=more,
        next_start_line=stop + 1 if more else None,
        text="".join(lines),
    )

"""``edit_file`` for the agent: replace one exact occurrence of a text in a workspace file.

A file the model may edit is a file it may read: the gate is the MCP server's ``read_file``
rules (``contextos.mcp_server.files.read_range``: confined to the root, no secret path or
content, no binary), and a new file may not have a secret path. The edit keeps what the model
cannot see in the text it is shown: the encoding (UTF-8, UTF-8 with a BOM, or Latin-1 when the
bytes are not UTF-8; read as bytes, written back the same way) and CRLF line endings (``\\n`` in
``old`` and ``new`` becomes ``\\r\\n`` in a CRLF file). Any NUL byte makes a file binary.

A failed edit says what to do: no match shows the closest line of the file, several matches
name their lines. Left out: fuzzy or whitespace-insensitive matching, multi-file edits, undo,
and lines holding secret values (``read_file`` shows them redacted, so an ``old`` quoting the
redaction marker never matches; the error says so).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from contextos.errors import UserInputError
from contextos.mcp_server.files import read_range
from contextos.paths import confine
from contextos.secrets import is_secret_path

__all__ = ["Edit", "edit_file", "numbered", "split_lines"]

_BOM = b"\xef\xbb\xbf"
_SHOWN = 12
"""Lines of the edited region an ``Edit`` shows back (the rest is summarised)."""


@dataclass(frozen=True, slots=True)
class Edit:
    """A done edit: the file (posix, relative to the root), whether it was created, and the
    new text's lines ``start_line..end_line`` (1-based) with their numbered rendering."""

    path: str
    created: bool
    start_line: int
    end_line: int
    encoding: str
    newline: str
    shown: str


def edit_file(root: Path, path: str, old: str, new: str) -> Edit:
    """Replace the one occurrence of ``old`` in ``path`` by ``new``; ``UserInputError`` says why
    not. An empty ``old`` creates a missing file (and its parent directories) holding ``new``."""
    root = root.resolve()
    full = confine(root, path)
    rel = full.relative_to(root).as_posix()
    if not full.exists():
        return _create(full, rel, old, new)
    read_range(root, path, 1, 1)  # the read rules: directories, secrets, binary files
    data = full.read_bytes()
    if b"\x00" in data:
        raise UserInputError(f"{rel!r} is a binary file (it holds NUL bytes); it cannot be edited")
    encoding = "utf-8-sig" if data.startswith(_BOM) else _text_encoding(data)
    text = data.decode(encoding)
    newline = "\r\n" if "\r\n" in text else "\n"
    old, new = _with_newline(old, newline), _with_newline(new, newline)
    if not old:
        if text:
            raise UserInputError(
                f"old is empty but {rel!r} exists and is not empty: quote the text to replace"
            )
        start = 0
    else:
        start = _only_match(text, old, rel)
    edited = text[:start] + new + text[start + len(old) :]
    try:
        encoded = edited.encode(encoding)
    except UnicodeEncodeError as exc:
        raise UserInputError(
            f"{rel!r} is Latin-1 and the new text holds {exc.object[exc.start : exc.end]!r}, "
            "which Latin-1 cannot hold: write it another way (an escape, ASCII)"
        ) from exc
    full.write_bytes(encoded)
    first = text.count("\n", 0, start) + 1
    return _edit(rel, False, edited, first, new, encoding, newline)


def _create(full: Path, rel: str, old: str, new: str) -> Edit:
    if old:
        raise UserInputError(
            f"no such file: {rel!r}; to create it, call edit_file with old set to an empty string"
        )
    if is_secret_path(rel):
        raise UserInputError(f"{rel!r} looks like a secrets file; the agent does not write those")
    full.parent.mkdir(parents=True, exist_ok=True)
    full.write_bytes(new.encode("utf-8"))
    return _edit(rel, True, new, 1, new, "utf-8", "\r\n" if "\r\n" in new else "\n")


def _text_encoding(data: bytes) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def _with_newline(text: str, newline: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", newline) if newline == "\r\n" else text


def _only_match(text: str, old: str, rel: str) -> int:
    """Where the single occurrence of ``old`` starts, or an error that helps the next try."""
    first = text.find(old)
    if first < 0:
        raise UserInputError(_no_match(text, old, rel))
    starts = [first]
    at = text.find(old, first + 1)
    while at >= 0:
        starts.append(at)
        at = text.find(old, at + 1)
    if len(starts) > 1:
        lines = ", ".join(str(text.count("\n", 0, s) + 1) for s in starts)
        raise UserInputError(
            f"old matches {len(starts)} times in {rel!r} (at lines {lines}); "
            "include more surrounding lines in old so it matches exactly once"
        )
    return first


def _no_match(text: str, old: str, rel: str) -> str:
    message = f"old was not found in {rel!r}; it must match the file exactly, whitespace included"
    if "[REDACTED:" in old:
        return message + (
            "; old quotes a [REDACTED:...] marker: read_file hides secret values, "
            "so lines holding them cannot be edited with edit_file"
        )
    wanted = next((line for line in split_lines(old) if line.strip()), "")
    lines = split_lines(text)
    if not wanted or len(lines) > 20_000:
        return message
    close = difflib.get_close_matches(wanted, lines, n=1, cutoff=0.5)
    if not close:
        return message
    at = lines.index(close[0])
    region = numbered(lines[max(0, at - 2) : at + 3], max(0, at - 2) + 1)
    return f"{message}. The closest line is {at + 1}:\n{region}"


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` without their ends, split at ``\\n`` only: the lines ``read_file``
    and the index number (``str.splitlines`` also splits at form feeds and U+2028)."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def numbered(lines: list[str], first: int) -> str:
    """``lines`` numbered from ``first``, the way ``read_file`` shows them."""
    return "\n".join(f"{first + i:>6}\t{line}" for i, line in enumerate(lines))


def _edit(
    rel: str, created: bool, text: str, first: int, new: str, encoding: str, newline: str
) -> Edit:
    count = max(1, len(split_lines(new)))
    lines = split_lines(text)[first - 1 : first - 1 + count]
    shown = numbered(lines[:_SHOWN], first)
    if count > _SHOWN:
        shown += f"\n       ... {count - _SHOWN} more lines"
    return Edit(rel, created, first, first + count - 1, encoding, newline, shown)

"""A file's lines, and how to cut row ranges into windows.

Lines are split on ``\\n`` only (a ``\\r`` before it is dropped), the same rows tree-sitter
counts, so syntax rows and chunk lines agree; a final newline does not start another line.
Windows are cut by line count and, so that one chunk cannot swallow a minified file, by
characters; a single line longer than the character budget still forms a window alone.
"""

from __future__ import annotations

import re
from itertools import accumulate

__all__ = ["MAX_CHUNK_CHARS", "Lines", "markdown_sections"]

MAX_CHUNK_CHARS = 16_000
"""Soft character budget of one chunk; only a single longer line exceeds it."""

_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t#]*$")
_FENCE = re.compile(r" {0,3}(```|~~~)")


class Lines:
    """The lines of one text, with O(1) character counts of row ranges (rows are 0-based).

    ``source`` is the text with ``\\r\\n`` turned into ``\\n``: the text to parse so that syntax
    rows are these rows.
    """

    def __init__(self, text: str) -> None:
        self.source = text.replace("\r\n", "\n")
        items = self.source.split("\n")
        if items and items[-1] == "":
            items.pop()
        self.items = items
        self._offsets = list(accumulate((len(line) + 1 for line in items), initial=0))

    def __len__(self) -> int:
        return len(self.items)

    def chars(self, start: int, end: int) -> int:
        """Characters in rows ``start..end`` (inclusive), newlines included."""
        return self._offsets[end + 1] - self._offsets[start]

    def blank(self, row: int) -> bool:
        """Whether ``row`` holds only whitespace."""
        return not self.items[row].strip()

    def trim(self, start: int, end: int) -> tuple[int, int] | None:
        """``start..end`` without blank rows at either edge; ``None`` if every row is blank."""
        while start <= end and self.blank(start):
            start += 1
        while end >= start and self.blank(end):
            end -= 1
        return (start, end) if start <= end else None

    def windows(self, start: int, end: int, size: int, overlap: int) -> list[tuple[int, int]]:
        """Cover ``start..end`` with windows of at most ``size`` rows and ``MAX_CHUNK_CHARS``
        characters, each sharing ``overlap`` rows with the one before; blank edges trimmed and
        all-blank windows dropped."""
        out: list[tuple[int, int]] = []
        row = start
        while row <= end:
            stop = min(row + size - 1, end)
            while stop > row and self.chars(row, stop) > MAX_CHUNK_CHARS:
                stop = row + (stop - row) // 2
            trimmed = self.trim(row, stop)
            if trimmed is not None:
                out.append(trimmed)
            if stop >= end:
                break
            following = stop + 1 - overlap
            row = following if following > row else stop + 1
        return out


def markdown_sections(lines: Lines) -> list[tuple[int, int, str]]:
    """``(start, end, heading path)`` of each section of a Markdown file, in order.

    A section starts at an ATX heading (``#`` .. ``######``) outside fenced code; its heading
    path is the chain of enclosing headings (``Install > From source``). Text before the first
    heading is a section with an empty path.
    """
    sections: list[tuple[int, int, str]] = []
    trail: list[tuple[int, str]] = []
    start, path, fence = 0, "", ""
    for row, line in enumerate(lines.items):
        opened = _FENCE.match(line)
        if opened is not None and (not fence or opened.group(1) == fence):
            fence = "" if fence else opened.group(1)
            continue
        heading = None if fence else _HEADING.match(line)
        if heading is None:
            continue
        if row > start:
            sections.append((start, row - 1, path))
        level = len(heading.group(1))
        trail = [t for t in trail if t[0] < level] + [(level, (heading.group(2) or "").strip())]
        start, path = row, " > ".join(title for _, title in trail if title)
    if start < len(lines):
        sections.append((start, len(lines) - 1, path))
    return sections

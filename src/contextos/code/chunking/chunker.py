"""Cut a source file into chunks: definitions for parsed languages, line windows for the rest.

What a chunk holds (``Chunk`` lines are 1-based and inclusive):

- ``function`` / ``method`` / ``type``: the definition's exact lines, with the comments and
  decorators directly above it. ``symbol`` is qualified (``Outer.Inner.method``).
- ``class`` (any container of methods: classes, Rust ``impl``/``trait``, Java interfaces, C++
  structs): its lines span the whole class, but its *text is an outline*: the class's own lines
  (header, docstring, attributes, closing brace) with each member reduced to its decorators and
  signature lines. The members are chunks of their own, so no method body is stored twice while
  the class chunk still reads as a summary. A class without methods is stored verbatim.
- ``module``: top-level code between definitions (imports, constants, ``if __name__ ...``).
- ``window``: line windows of files without a parser; Markdown is cut at headings first.

Every chunk's text lines are, in order, lines of the file within its range, and equal to that
range except for class outlines. Every non-blank line lies in some chunk's range: top-level code
becomes module chunks, and a gap of punctuation only (a namespace's ``}``) joins the definition
before it. ``context`` holds the signatures of the enclosing classes and of the definition
itself, so a method can be embedded alone; Markdown windows carry their heading path there.
Chunks longer than ``max_chunk_lines`` (or about 16k characters) become windows of
``window_lines`` rows that keep symbol, kind and context.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from contextos.code.chunking.languages import PARSED_LANGUAGES, language_for
from contextos.code.chunking.lines import MAX_CHUNK_CHARS, Lines, markdown_sections
from contextos.code.chunking.outline import Definition, outline
from contextos.types import Chunk

__all__ = ["CHUNKER_VERSION", "chunk_file"]

CHUNKER_VERSION = "2"
"""Changes whenever the same text may be cut into different chunks (a language gains rules, a
rule changes). The index records it and re-chunks every file when it differs, since it otherwise
re-chunks only files whose content changed. 2: syntax chunking of eleven more languages."""

_WORD = re.compile(r"\w")


def chunk_file(
    path: str, text: str, *, window_lines: int = 60, max_chunk_lines: int = 200
) -> list[Chunk]:
    """The chunks of ``text`` (the content of ``path``), ordered by start line.

    The language comes from ``path`` (unknown names are chunked as ``"text"``). Never raises on
    content: syntax errors still yield definitions where the parser recovered, and everything
    else becomes module chunks. Empty or all-blank text gives ``[]``. Raises ``ValueError`` if
    ``window_lines`` or ``max_chunk_lines`` is below 1.
    """
    if window_lines < 1 or max_chunk_lines < 1:
        raise ValueError("window_lines and max_chunk_lines must be at least 1")
    lines = Lines(text)
    span = lines.trim(0, len(lines) - 1)
    if span is None:
        return []
    language = language_for(path) or "text"
    cutter = _Cutter(path, language, lines, window_lines, max_chunk_lines)
    if language == "markdown":
        return cutter.markdown()
    defs = outline(lines.source, language) if language in PARSED_LANGUAGES else None
    if defs is None:
        return cutter.span(*span, None, "window", "", window_lines)
    return cutter.syntax(defs)


@dataclass(frozen=True, slots=True)
class _Cutter:
    """Turns row ranges of one file into chunks."""

    path: str
    language: str
    lines: Lines
    window: int
    max_lines: int

    def chunk(self, start: int, end: int, symbol: str | None, kind: str, context: str) -> Chunk:
        text = "\n".join(self.lines.items[start : end + 1])
        return Chunk(self.path, self.language, start + 1, end + 1, text, symbol, kind, context)

    def span(
        self, start: int, end: int, symbol: str | None, kind: str, context: str, limit: int
    ) -> list[Chunk]:
        """Rows ``start..end`` as one chunk, or as windows if longer than ``limit`` rows."""
        if end - start < limit and self.lines.chars(start, end) <= MAX_CHUNK_CHARS:
            return [self.chunk(start, end, symbol, kind, context)]
        overlap = min(5, self.window // 4)
        return [
            self.chunk(s, e, symbol, kind, context)
            for s, e in self.lines.windows(start, end, self.window, overlap)
        ]

    def markdown(self) -> list[Chunk]:
        out: list[Chunk] = []
        for start, end, heading in markdown_sections(self.lines):
            trimmed = self.lines.trim(start, end)
            if trimmed is not None:
                out.extend(self.span(*trimmed, None, "window", heading, self.window))
        return out

    def syntax(self, defs: list[Definition]) -> list[Chunk]:
        out: list[Chunk] = []
        for start, end in _absorb_punctuation(defs, _gaps(defs, self.lines), self.lines):
            out.extend(self.span(start, end, None, "module", "", self.window))
        for d in defs:
            self.emit(d, (), out)
        out.sort(key=lambda c: (c.start_line, -c.end_line))
        return out

    def emit(self, d: Definition, parents: tuple[str, ...], out: list[Chunk]) -> None:
        """Chunks of ``d`` and, for a container, of its members (recursively)."""
        context = "\n".join((*parents, d.signature))
        if not d.members:
            out.extend(self.span(d.start, d.end, d.symbol, d.kind, context, self.max_lines))
            return
        rows = _outline_rows(d, self.lines)
        groups = [rows] if len(rows) <= self.max_lines else _batches(rows, self.window)
        for i, group in enumerate(groups):
            start = d.start if i == 0 else group[0]
            end = d.end if i == len(groups) - 1 else group[-1]
            text = "\n".join(self.lines.items[r] for r in group)
            out.append(
                Chunk(self.path, self.language, start + 1, end + 1, text, d.symbol, d.kind, context)
            )
        for member in d.members:
            self.emit(member, (*parents, d.signature), out)


def _gaps(defs: list[Definition], lines: Lines) -> list[tuple[int, int]]:
    """Row ranges outside every definition, blank edges trimmed, all-blank ranges dropped."""
    ranges: list[tuple[int, int]] = []
    row = 0
    for d in defs:
        if d.start > row:
            ranges.append((row, d.start - 1))
        row = max(row, d.end + 1)
    ranges.append((row, len(lines) - 1))
    return [t for t in (lines.trim(s, e) for s, e in ranges) if t is not None]


def _absorb_punctuation(
    defs: list[Definition], gaps: list[tuple[int, int]], lines: Lines
) -> list[tuple[int, int]]:
    """Gaps that carry words; punctuation-only gaps are added to the definition before them
    (or after them, at the top of a file), which mutates ``defs``."""
    kept: list[tuple[int, int]] = []
    ends = [d.end for d in defs]
    for start, end in gaps:
        if not defs or _WORD.search("".join(lines.items[start : end + 1])):
            kept.append((start, end))
            continue
        i = bisect_left(ends, start)
        if i > 0:
            defs[i - 1].end = ends[i - 1] = end
        else:
            defs[0].start = start
    return kept


def _outline_rows(d: Definition, lines: Lines) -> list[int]:
    """Non-blank rows of container ``d`` outside its members' bodies: the class outline."""
    hidden = bytearray(d.end - d.start + 1)
    for m in d.members:
        lo, hi = max(m.start, d.start) - d.start, min(m.end, d.end) - d.start
        hidden[lo : hi + 1] = b"\x01" * (hi - lo + 1)
        lo, hi = max(m.node_start, d.start) - d.start, min(m.sig_end, d.end) - d.start
        hidden[lo : hi + 1] = bytes(max(0, hi - lo + 1))
    rows = [r for r in range(d.start, d.end + 1) if not hidden[r - d.start] and not lines.blank(r)]
    return rows or [d.node_start]


def _batches(rows: list[int], size: int) -> list[list[int]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]

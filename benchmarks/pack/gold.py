"""Gold for the packing benchmark: where a gold symbol is defined; does a packed text hold it.

*Gold span*: a symbol of ``expected_spans`` (``Class.method``, ``func``, ``Class``) is defined by
the chunks contextos's chunker (``chunk_file``, tree-sitter) gives that symbol in the gold file at
``base_commit``; its span is the lowest start to the highest end line of those chunks, so it holds
the whole definition: attached comments and decorators, the signature and the full body (for a
class, every member). Pseudo-symbols for module-level code (``imports``, ``impl:3``,
``Class:32``) name no definition, and symbols the chunker does not find (added by the fix) cannot
be packed; for both only the file's presence is required.

*Packed coverage*: packed text is read back the way a model would, as ``path:a-b`` headers each
followed by a fenced block. The block's lines are aligned in order against the file's lines
``a..b`` (a line counts only where it equals the file's line, so a compressor's note, a line cut
short or a line under a wrong number does not count). A span is inside the pack when every
non-blank line of it is covered; a file is present when at least one of its lines is.

Left out: gold in test files (never expected here) and partial credit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Gold",
    "GoldSpan",
    "covered_lines",
    "gold_for",
    "gold_met",
    "is_pseudo_symbol",
    "locate",
    "span_inside",
]

_PSEUDO = re.compile(r"^(imports|impl)(:\d+)?$|:\d+$")
_HEADER = re.compile(r"^(?P<path>\S.*?):(?P<start>\d+)-(?P<end>\d+)(?: \(.*\))?$")
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})[\w+#.-]*$")


@dataclass(frozen=True, slots=True)
class GoldSpan:
    """Lines ``start``..``end`` (1-based, inclusive) of ``path`` that define ``symbol``."""

    path: str
    symbol: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Gold:
    """What must be inside a pack: every file of ``files`` and every span of ``spans``."""

    files: tuple[str, ...]
    spans: tuple[GoldSpan, ...] = ()
    pseudo: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()
    file_texts: Mapping[str, list[str]] = field(default_factory=dict)


def is_pseudo_symbol(symbol: str) -> bool:
    """``imports``, ``impl``, ``impl:9``, ``LatexPrinter:32``: module-level code, no definition."""
    return bool(_PSEUDO.search(symbol))


def locate(path: str, text: str, symbol: str) -> tuple[int, int] | None:
    """The 1-based line span of ``symbol``'s definition in ``text``, or ``None``."""
    from contextos.code.chunking import chunk_file

    found = [c for c in chunk_file(path, text) if c.symbol == symbol]
    if not found:
        return None
    return min(c.start_line for c in found), max(c.end_line for c in found)


def file_lines(text: str) -> list[str]:
    """Lines as the chunker counts them (``\\n`` only, ``\\r`` dropped, no trailing empty)."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def gold_for(row: Mapping[str, Any], read: Mapping[str, str]) -> Gold:
    """The gold of an instance row; ``read`` maps each gold path to its text at base_commit."""
    files = tuple(row["gold_files"])
    expected: Mapping[str, list[str]] = row.get("expected_spans") or {}
    spans: list[GoldSpan] = []
    pseudo: list[str] = []
    unresolved: list[str] = []
    for path in files:
        text = read.get(path)
        for symbol in expected.get(path, []):
            if is_pseudo_symbol(symbol):
                pseudo.append(f"{path}::{symbol}")
                continue
            where = None if text is None else locate(path, text, symbol)
            if where is None:
                unresolved.append(f"{path}::{symbol}")
            else:
                spans.append(GoldSpan(path, symbol, *where))
    texts = {p: file_lines(t) for p, t in read.items() if p in files}
    return Gold(files, tuple(spans), tuple(pseudo), tuple(unresolved), texts)


def covered_lines(packed: str, texts: Mapping[str, Sequence[str]]) -> dict[str, set[int]]:
    """Per path of ``texts``, the 1-based file lines that ``packed`` shows under a true header."""
    out: dict[str, set[int]] = {}
    lines = packed.split("\n")
    i = 0
    while i < len(lines):
        head = _HEADER.match(lines[i])
        fence = _FENCE.match(lines[i + 1]) if head and i + 1 < len(lines) else None
        if head is None or fence is None or head["path"] not in texts:
            i += 1
            continue
        close = fence["fence"]
        j = i + 2
        while j < len(lines) and lines[j] != close and not lines[j].startswith(">>>END DATA"):
            j += 1
        file = texts[head["path"]]
        seen = _align(lines[i + 2 : j], file, int(head["start"]), int(head["end"]))
        out.setdefault(head["path"], set()).update(seen)
        i = j + 1
    return out


def _align(block: Sequence[str], file: Sequence[str], start: int, end: int) -> set[int]:
    """File lines ``start..end`` matched, in order, by the non-blank lines of ``block``."""
    seen: set[int] = set()
    row = start
    last = min(end, len(file))
    for line in block:
        want = line.rstrip()
        if not want:
            continue
        probe = row
        while probe <= last and file[probe - 1].rstrip() != want:
            probe += 1
        if probe <= last:
            seen.add(probe)
            row = probe + 1
    return seen


def span_inside(span: GoldSpan, covered: Mapping[str, set[int]], file: Sequence[str]) -> bool:
    """Every non-blank line of ``span`` is covered."""
    have = covered.get(span.path, set())
    return all(
        n in have for n in range(span.start, min(span.end, len(file)) + 1) if file[n - 1].strip()
    )


def gold_met(gold: Gold, covered: Mapping[str, set[int]]) -> bool:
    """Every gold file present and every gold span inside."""
    if not all(covered.get(path) for path in gold.files):
        return False
    return all(span_inside(s, covered, gold.file_texts.get(s.path, [])) for s in gold.spans)

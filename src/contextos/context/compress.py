"""Compressors: shrink a layer's text toward a token target, keeping what carries information.

``density`` drops lines by value, lowest first (later lines first among equals): blank lines and
duplicates, then prose, then comments and headings, then code lines, identifiers, paths and
numbers. Structural lines (code fences, data-block markers) stay until the last resort, a cut that
keeps the head. ``head`` keeps the beginning. Each notes what it dropped in one line, so a model
knows the text is partial. Both are best effort: the packer verifies the count and retries.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

from contextos.context.counting import TokenCounter

__all__ = ["code_density", "density", "head", "line_value"]

_STRUCTURAL = re.compile(r"^(```|~~~|<<<|>>>|<data |</data)")
_HEADING = re.compile(r"^#{1,6} \S")
_COMMENT = re.compile(r"^(#|//|/\*|\*|--|\"\"\"|''')")
_INFO = re.compile(r"[(){}\[\];=<>]|[A-Za-z0-9]_\w|[a-z][A-Z]|\w\.\w|/|\d|`")
_STRUCT = 5


def line_value(line: str, seen: set[str]) -> int:
    """0 blank or duplicate · 1 prose · 2 comment or heading · 3 a comment/heading carrying an
    identifier, path or number · 4 code · 5 structural. ``seen`` collects non-trivial lines."""
    s = line.strip()
    if not s:
        return 0
    value = _intrinsic(s)
    if value != _STRUCT and len(s) > 3:
        if s in seen:
            return 0
        seen.add(s)
    return value


@lru_cache(maxsize=65_536)
def _intrinsic(s: str) -> int:
    if _STRUCTURAL.match(s):
        return _STRUCT
    informative = bool(_INFO.search(s))
    if _HEADING.match(s) or _COMMENT.match(s):
        return 3 if informative and not _HEADING.match(s) else 2
    return 4 if informative else 1


def _note(dropped: int) -> str:
    return f"[… {dropped} line{'s' if dropped != 1 else ''} dropped to fit]"


def density(text: str, target: int, counter: TokenCounter) -> str:
    """Drop the least informative lines until ``text`` counts ≤ ``target`` (see module doc)."""
    return _drop(text, target, counter, code=False)


def code_density(text: str, target: int, counter: TokenCounter) -> str:
    """``density`` for code excerpts: blank, duplicate, prose and comment lines go first, then
    code lines strictly from the end, so what stays is contiguous code; emptied excerpts (a
    header and an empty fence) go too."""
    return _drop(text, target, counter, code=True)


def _drop(text: str, target: int, counter: TokenCounter, *, code: bool) -> str:
    total = counter.count(text)
    if total <= target:
        return text
    lines = text.split("\n")
    seen: set[str] = set()
    values = [line_value(line, seen) for line in lines]
    if code:
        values = [v if v <= 2 or v == _STRUCT else 3 for v in values]
    # Line costs are estimated from the whole count by length (counting every line would
    # dominate packing time); each candidate is then counted for real.
    costs = [total * (len(line) + 1) / (len(text) + 1) for line in lines]
    order = sorted(range(len(lines)), key=lambda i: (values[i], -i))
    order = [i for i in order if values[i] < _STRUCT]
    keep = [True] * len(lines)
    excess: float = total + counter.count(_note(len(lines))) - target
    pos = 0
    while True:
        while excess > 0 and pos < len(order):
            keep[order[pos]] = False
            excess -= costs[order[pos]]
            pos += 1
        keep = _tidy(lines, keep)
        out = _join(lines, keep)
        over = counter.count(out) - target
        if over <= 0 or pos >= len(order):
            break
        excess = over
    kept = [i for i, k in enumerate(keep) if k and values[i] < _STRUCT and lines[i].strip()]
    if not kept:  # every content line went: a cut prefix says more than a bare note
        return head(text, target, counter)
    return out if over <= 0 else head(out, target, counter)


_HEADER = re.compile(r"^\S+:\d+-\d+")


def _tidy(lines: list[str], keep: list[bool]) -> list[bool]:
    """``keep`` without empty fences (an opening fence right before its closing one) and the
    excerpt header line in front of such a fence."""
    keep = list(keep)
    kept = [i for i, k in enumerate(keep) if k]
    for a, b in itertools.pairwise(kept):
        opening, closing = lines[a].strip(), lines[b].strip()
        fence = bool(closing) and set(closing) <= {"`", "~"} and len(closing) >= 3
        if fence and opening.startswith(closing) and opening != closing:
            keep[a] = keep[b] = False
            before = [i for i in kept if i < a and keep[i]]
            if before and _HEADER.match(lines[before[-1]]):
                keep[before[-1]] = False
    return keep


def _join(lines: list[str], keep: list[bool]) -> str:
    kept = [line for line, k in zip(lines, keep, strict=True) if k]
    dropped = len(lines) - len(kept)
    return "\n".join([*kept, _note(dropped)] if dropped else kept)


def head(text: str, target: int, counter: TokenCounter) -> str:
    """The longest run of leading lines (then characters) that counts ≤ ``target`` with a note."""
    if counter.count(text) <= target:
        return text
    note = "\n[… cut to fit]"
    lines = text.split("\n")
    lo, hi = 0, len(lines)
    while lo < hi:  # most lines whose join fits
        mid = (lo + hi + 1) // 2
        if counter.count("\n".join(lines[:mid]) + note) <= target:
            lo = mid
        else:
            hi = mid - 1
    if lo > 0:
        return "\n".join(lines[:lo]) + note
    first = lines[0]
    lo, hi = 0, len(first)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if counter.count(first[:mid] + note) <= target:
            lo = mid
        else:
            hi = mid - 1
    return first[:lo] + note if lo else ""

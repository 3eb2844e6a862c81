"""Compressors: shrink a layer's text toward a token target, keeping what carries information.

``density`` drops lines by value, lowest first (later lines first among equals): blank lines and
duplicates, then prose, then comments and headings, then code lines, identifiers, paths and
numbers. Structural lines (code fences, data-block markers) stay until the last resort, a cut that
keeps the head. ``head`` keeps the beginning. Each notes what it dropped in one line, so a model
knows the text is partial. Both are best effort: the packer verifies the count and retries.

They count candidates, not lines: line costs are estimated from the whole count by length, and
``head`` searches for its cut starting where that estimate puts it. A counter that offers
``estimate(text)`` (the packer's, for the body it asks them to shrink) spares them counting the
whole text again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

from contextos.context.counting import TokenCounter

__all__ = ["clear_caches", "code_density", "density", "head", "line_value"]

_STRUCTURAL = re.compile(r"^(```|~~~|<<<|>>>|<data |</data)")
_HEADING = re.compile(r"^#{1,6} \S")
_COMMENT = re.compile(r"^(#|//|/\*|\*|--|\"\"\"|''')")
_INFO_CHAR = re.compile(r"[(){}\[\];=<>/`\d]")  # a bracket, operator, path, number or code span
_INFO_WORD = re.compile(r"[A-Za-z0-9]_\w|[a-z][A-Z]|\w\.\w")  # snake_case, camelCase, a.b
_STRUCT = 5


def line_value(line: str, seen: set[str]) -> int:
    """0 blank or duplicate · 1 prose · 2 comment or heading · 3 a comment/heading carrying an
    identifier, path or number · 4 code · 5 structural. ``seen`` collects non-trivial lines."""
    s, value, _, dedup = _kind(line)
    if dedup:
        if s in seen:
            return 0
        seen.add(s)
    return value


@lru_cache(maxsize=65_536)
def _kind(line: str) -> tuple[str, int, int, bool]:
    """The stripped line, its value before duplicates are considered, that value in code
    (every informative line is just code: 3), and whether a repeat of it is a duplicate."""
    s = line.strip()
    if not s:
        return s, 0, 0, False
    first = s[0]
    if first in _STRUCTURAL_FIRST and _STRUCTURAL.match(s):
        return s, _STRUCT, _STRUCT, False
    informative = _INFO_CHAR.search(s) is not None or _INFO_WORD.search(s) is not None
    if first in _MARK_FIRST and (_HEADING.match(s) or _COMMENT.match(s)):
        value = 3 if informative and not _HEADING.match(s) else 2
    else:
        value = 4 if informative else 1
    return s, value, min(value, 3), len(s) > 3


_STRUCTURAL_FIRST = frozenset("`~<>")
_MARK_FIRST = frozenset("#/*-\"'")


def clear_caches() -> None:
    """Forget the per-line and per-text memos, e.g. to time a pack of text never seen."""
    _kind.cache_clear()
    _plan.cache_clear()


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
    total = _over(text, target, counter)
    if total is None:
        return text
    lines = text.split("\n")
    note = counter.count(_note(len(lines)))
    # Line costs are estimated from the whole count by length (counting every line would
    # dominate packing time); each candidate is then counted for real.
    size = len(text) + 1
    last = _last(lines, code)
    if last is None or note + total * (len(last) + 1) / size > target:
        return head(text, target, counter)  # not even the line that goes last fits: cut
    order, content, fences = _plan(text, code)
    keep = [True] * len(lines)
    excess: float = total + note - target
    pos = 0
    while True:
        while excess > 0 and pos < len(order):
            keep[order[pos]] = False
            excess -= total * (len(lines[order[pos]]) + 1) / size
            pos += 1
        keep = _tidy(lines, keep, fences)
        if not any(k and c for k, c in zip(keep, content, strict=True)):
            # every content line went: a cut prefix says more than a bare note
            return head(text, target, counter)
        out = _join(lines, keep)
        over = counter.count(out) - target
        if over <= 0 or pos >= len(order):
            break
        excess = over
    return out if over <= 0 else head(out, target, counter)


def _last(lines: list[str], code: bool) -> str | None:
    """The line the drop order reaches last (the first of the most valuable), if any can go."""
    top = 3 if code else 4
    last, best = None, -1
    for line in lines:
        kind = _kind(line)
        value = kind[2] if code else kind[1]
        if best < value < _STRUCT:
            last, best = line, value
            if value == top:
                break
    return last


@lru_cache(maxsize=8)  # the packer retries a shrink with a lower target
def _plan(text: str, code: bool) -> _Plan:
    """The droppable lines of ``text`` in the order they go (lowest value first, later lines
    first among equals), which lines are content (not blank, not structural), and where the
    bare fences are (a fence alone on its line, with that fence)."""
    kinds = list(map(_kind, text.split("\n")))
    n = len(kinds)
    first = dict(zip(reversed([k[0] for k in kinds]), range(n - 1, -1, -1), strict=True))
    at = 2 if code else 1
    values = [0 if k[3] and first[k[0]] != i else k[at] for i, k in enumerate(kinds)]
    order = sorted(range(n - 1, -1, -1), key=values.__getitem__)
    content = [bool(k[0]) and k[1] != _STRUCT for k in kinds]
    fences = [
        (i, k[0])
        for i, k in enumerate(kinds)
        if k[1] == _STRUCT and len(k[0]) >= 3 and set(k[0]) <= _FENCE_CHARS
    ]
    drop = tuple(i for i in order if values[i] != _STRUCT)
    return _Plan(drop, tuple(content), tuple(fences))


class _Plan(NamedTuple):
    order: tuple[int, ...]
    content: tuple[bool, ...]
    fences: tuple[tuple[int, str], ...]


_FENCE_CHARS = frozenset("`~")


def _over(text: str, target: int, counter: TokenCounter) -> int | None:
    """What ``text`` counts if that is over ``target``, else None. A counter that offers an
    ``estimate(text)`` (the packer's does, for a layer it must shrink: it has counted the
    rendered layer) is taken at its word when the estimate is over target, saving a count of the
    whole text; the estimate then only scales line costs, and every candidate is still counted."""
    estimate = getattr(counter, "estimate", None)
    guess: int | None = estimate(text) if estimate is not None else None
    if guess is not None and guess > target:
        return guess
    total = counter.count(text)
    return total if total > target else None


_HEADER = re.compile(r"^\S+:\d+-\d+")


def _tidy(lines: list[str], keep: list[bool], fences: tuple[tuple[int, str], ...]) -> list[bool]:
    """``keep`` without empty fences (an opening fence right before its closing one) and the
    excerpt header line in front of such a fence. Only bare fences can close one."""
    keep = list(keep)
    for b, closing in fences:
        if not keep[b]:
            continue
        a = _kept_before(keep, b)
        opening = lines[a].strip() if a >= 0 else ""
        if opening.startswith(closing) and opening != closing:
            keep[a] = keep[b] = False
            h = _kept_before(keep, a)
            if h >= 0 and _HEADER.match(lines[h]):
                keep[h] = False
    return keep


def _kept_before(keep: list[bool], i: int) -> int:
    i -= 1
    while i >= 0 and not keep[i]:
        i -= 1
    return i


def _join(lines: list[str], keep: list[bool]) -> str:
    kept = [line for line, k in zip(lines, keep, strict=True) if k]
    dropped = len(lines) - len(kept)
    return "\n".join([*kept, _note(dropped)] if dropped else kept)


def head(text: str, target: int, counter: TokenCounter) -> str:
    """The longest run of leading lines (then characters) that counts ≤ ``target`` with a note."""
    total = _over(text, target, counter)
    if total is None:
        return text
    note = "\n[… cut to fit]"
    lines = text.split("\n")
    # Token counts grow with the prefix, near enough to search on: start from where the text's
    # own tokens per character put the cut, so short targets cost a few short counts.
    base = counter.count(note)
    chars = max(target - base, 1) * (len(text) + 1) / (total + 1)
    guess, used = 0, len(lines[0]) + 1
    while used <= chars and guess < len(lines) - 1:
        guess += 1
        used += len(lines[guess]) + 1
    n = _largest(
        lambda k: counter.count("\n".join(lines[:k]) + note), target, len(lines), guess, base
    )
    if n > 0:
        return "\n".join(lines[:n]) + note
    first = lines[0]
    n = _largest(lambda k: counter.count(first[:k] + note), target, len(first), int(chars), base)
    return first[:n] + note if n else ""


def _largest(cost: Callable[[int], int], target: int, most: int, guess: int, base: int) -> int:
    """The largest ``k`` in ``1..most`` with ``cost(k) <= target``, else 0, for a cost that grows
    with ``k`` from ``base`` (``cost(0)``): probe ``guess``, then twice where the tokens per unit
    measured put the target, then bisect. Only a probed ``k`` is returned, so it fits even where
    the cost does not grow."""
    lo, hi = 0, most  # cost(lo) <= target or lo == 0; nothing above hi fits
    k, probes = min(max(guess, 1), most), 0
    while lo < hi:
        spent = cost(k)
        if spent <= target:
            lo = k
        else:
            hi = k - 1
        probes += 1
        if probes < 3:
            k += int((target - spent) * k / max(spent - base, 1))
        else:
            k = (lo + hi + 1) // 2
        k = min(max(k, lo + 1), hi)
    return lo

"""Code for the window: the best search hits that fit, whole, in the room the other layers leave.

``select_code(hits, room, counter)`` walks ranked chunk hits best first and keeps each one whose
file's layer, re-rendered with it (``merge_hits`` → ``code_layers``: one quoted block per file,
ranges merged without overlap), still fits in ``room``; a hit that does not fit is skipped for
the next one. A tight budget thus gets many whole definitions rather than a few cut ones. The
layers it returns cost ≤ ``room`` together and are pinned whole (no compressor; ``min_tokens``
is their cost): ``pack`` keeps each whole or drops it, never cuts a chosen definition. Each
carries its exact cost (``Layer.counted``), so ``pack`` does not count it again.
``code_depth(budget)`` is how many hits to ask the search for. Hits whose text is not a run
of consecutive file lines (class outlines: a class's signature and its members' signatures,
whose members are hits of their own) are left out, since an excerpt numbers its lines.

Trying a hit costs a count of the span it lands in, not of the whole file's layer: with an
additive counter (``AdditiveCounter``) a file layer costs its frame (the data block's first and
last lines, whose nonce is always four tokens) plus each span block with its line break, since
every junction is a cut point: the frame's first line ends in a letter, and each block and the
closing line start a line with a path or ``>``. A path that starts with a space or ``/`` (or a
counter that does not add up) is counted whole; a test checks both ways agree.

``benchmarks.pack`` measures exactly this path (gold-in-budget at 2k-16k tokens).
Left out: re-reading files to widen a hit to its enclosing definition.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from contextos.context.blocks import (
    Excerpt,
    Span,
    frame_foot,
    frame_head,
    merge_hits,
    span_block,
)
from contextos.context.counting import TokenCounter, additive_parts, count_all
from contextos.context.layers import Layer
from contextos.context.report import SEPARATOR
from contextos.context.sources import code_layers, quoted_source
from contextos.types import SearchHit

__all__ = ["code_depth", "consecutive", "select_code"]

_MIN_DEPTH = 300
_TOKENS_PER_HIT = 50
_CHARS_PER_TOKEN = 4
_LEAST_ROOM = 8
"""Below this many tokens left, no hit can be added (a header line alone costs more)."""


def code_depth(budget: int) -> int:
    """How many chunk hits to rank for a window of ``budget`` tokens: 300, or one per 50
    tokens of budget past 15,000 (a 128k window asks for 2,560)."""
    return max(_MIN_DEPTH, budget // _TOKENS_PER_HIT)


def consecutive(hit: SearchHit) -> bool:
    """Whether the hit's text is its file's lines ``start_line``..``end_line``."""
    return hit.text.count("\n") == hit.end_line - hit.start_line


def select_code(hits: Sequence[SearchHit], room: int, counter: TokenCounter) -> list[Layer]:
    """The code layers of the best hits that fit in ``room`` tokens whole (see module doc),
    one per file, ranked by the file's best kept hit."""
    chosen: dict[str, list[SearchHit]] = {}
    files: dict[str, _File] = {}
    costs = _Costs(counter)
    costs.prefetch(_likely(hits, room))
    used = 0
    for hit in hits:
        if room - used < _LEAST_ROOM:
            break
        if not consecutive(hit):
            continue
        old = files.get(hit.path)
        new = costs.add(old, hit, chosen.get(hit.path, []))
        delta = new.cost - (old.cost if old is not None else 0)
        if used + delta <= room:
            used += delta
            files[hit.path] = new
            chosen.setdefault(hit.path, []).append(hit)
    layers = code_layers(
        [
            Excerpt(path, f.language, rank, max(h.score for h in chosen[path]), f.spans)
            for rank, (path, f) in enumerate(files.items(), start=1)
        ]
    )
    name = counter.name
    pinned = []
    for layer in layers:
        cost = files[layer.id.removeprefix("code:")].cost
        pinned.append(
            dataclasses.replace(layer, min_tokens=cost, compressor=None, counted=(name, cost))
        )
    return pinned


@dataclass(frozen=True, slots=True)
class _File:
    """One file's kept hits as ``merge_hits`` would merge them, and what their layer costs:
    ``parts`` summed in the counter's additive parts (None when counted whole)."""

    language: str
    spans: tuple[Span, ...]
    symbol_at: dict[int, str]
    parts: int | None
    cost: int


class _Costs:
    """What ``pack`` charges for a file's code layer as hits join it. With an additive counter
    only the span a hit lands in is counted (see module doc); otherwise the layer is counted
    whole. Counts of parts are remembered across trials."""

    def __init__(self, counter: TokenCounter) -> None:
        self._counter = counter
        self._additive = additive_parts(counter)
        self._memo: dict[str, int] = {}

    def add(self, file: _File | None, hit: SearchHit, before: list[SearchHit]) -> _File:
        """``file`` (None: no hit of it kept yet) with ``hit`` merged in."""
        language = file.language if file is not None else hit.language
        spans = file.spans if file is not None else ()
        symbol_at = file.symbol_at if file is not None else {}
        if hit.symbol and hit.start_line not in symbol_at:
            symbol_at = {**symbol_at, hit.start_line: hit.symbol}
        touched = [s for s in spans if s.start <= hit.end_line + 1 and s.end >= hit.start_line - 1]
        if not touched:
            merged = _alone(hit)
            if merged.symbols != _symbols(symbol_at, merged.start, merged.end):
                merged = dataclasses.replace(
                    merged, symbols=_symbols(symbol_at, merged.start, merged.end)
                )
        else:
            lines: dict[int, str] = {}
            for span in touched:
                lines.update(zip(range(span.start, span.end + 1), span.lines, strict=True))
            for offset, line in enumerate(hit.text.split("\n")):
                lines.setdefault(hit.start_line + offset, line)
            first, last = min(lines), max(lines)
            text = tuple(lines[n] for n in range(first, last + 1))
            merged = Span(first, last, text, _symbols(symbol_at, first, last))
        gone = {id(s) for s in touched}
        kept = [s for s in spans if id(s) not in gone]
        kept.insert(bisect.bisect([s.start for s in kept], merged.start), merged)
        if self._additive is None or (file is not None and file.parts is None):
            return _File(language, tuple(kept), symbol_at, None, self._whole([*before, hit]))
        if not _splits(hit.path):
            return _File(language, tuple(kept), symbol_at, None, self._whole([*before, hit]))
        if file is None or file.parts is None:
            parts = self._frame(hit.path)
        else:
            parts = file.parts - sum(self._block(hit.path, language, s) for s in touched)
        parts += self._block(hit.path, language, merged)
        return _File(language, tuple(kept), symbol_at, parts, self._additive[1](parts))

    def prefetch(self, hits: Sequence[SearchHit]) -> None:
        """Count, in one batch over threads, each hit's block as it stands alone and each
        file's frame: most hits land in a span of their own, whose count is then known."""
        if self._additive is None:
            return
        texts = {self._frame_text(h.path) for h in hits if _splits(h.path)} | {
            span_block(h.path, h.language, _alone(h)) + "\n" for h in hits if _splits(h.path)
        }
        texts -= self._memo.keys()
        todo = list(texts)
        self._memo.update(zip(todo, count_all(self._additive[0], todo), strict=True))

    def _whole(self, hits: list[SearchHit]) -> int:
        layer = code_layers(merge_hits(hits))[0]
        return self._counter.count(layer.render(layer.body()) + SEPARATOR)

    def _frame(self, path: str) -> int:
        return self._part(self._frame_text(path))

    @staticmethod
    def _frame_text(path: str) -> str:
        """The data block of ``path`` with nothing inside, its junctions all cut points, so its
        count is the frame's share of every layer of that file."""
        head, foot = frame_head(quoted_source(path), _ANY_NONCE), frame_foot(_ANY_NONCE)
        return f"{head}\n{foot}{SEPARATOR}"

    def _block(self, path: str, language: str, span: Span) -> int:
        return self._part(span_block(path, language, span) + "\n")

    def _part(self, text: str) -> int:
        n = self._memo.get(text)
        if n is None:
            assert self._additive is not None
            n = self._memo[text] = self._additive[0].count(text)
        return n


def _likely(hits: Sequence[SearchHit], room: int) -> list[SearchHit]:
    """The best hits that probably fit: as many as ``room`` holds at ``_CHARS_PER_TOKEN``
    characters a token, with a quarter more for the ones skipped or merged."""
    chars, out = room * _CHARS_PER_TOKEN * 5 // 4, []
    for hit in hits:
        if chars <= 0:
            break
        if consecutive(hit):
            out.append(hit)
            chars -= len(hit.text)
    return out


def _symbols(symbol_at: dict[int, str], first: int, last: int) -> tuple[str, ...]:
    """The symbols of the kept hits that start within lines ``first``..``last``, in order."""
    return tuple(symbol_at[n] for n in sorted(symbol_at) if first <= n <= last)


def _alone(hit: SearchHit) -> Span:
    """The span a hit makes in a file where it touches no other kept hit."""
    lines = tuple(hit.text.split("\n"))
    return Span(hit.start_line, hit.end_line, lines, (hit.symbol,) if hit.symbol else ())


def _splits(path: str) -> bool:
    """Whether a line starting with ``path`` starts at a cut point (not a space, not ``/``)."""
    return bool(path) and not path[0].isspace() and path[0] != "/"


_ANY_NONCE = "0" * 12
"""Every nonce is twelve digits, four tokens in either encoding: any one counts the same."""

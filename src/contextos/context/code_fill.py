"""Code for the window: the best search hits that fit, whole, in the room the other layers leave.

``select_code(hits, room, counter)`` walks ranked chunk hits best first and keeps each one whose
file's layer, re-rendered with it (``merge_hits`` → ``code_layers``: one quoted block per file,
ranges merged without overlap), still fits in ``room``; a hit that does not fit is skipped for
the next one. A tight budget thus gets many whole definitions rather than a few cut ones. The
layers it returns cost ≤ ``room`` together and are pinned whole (``min_tokens`` is their cost):
``pack`` keeps each whole or drops it, never cuts a chosen definition. ``code_depth(budget)``
is how many hits to ask the search for. Hits whose text is not a run of consecutive file lines
(class outlines: a class's signature and its members' signatures, whose members are hits of
their own) are left out, since an excerpt numbers its lines.

Trying a hit costs a count of the span it lands in, not of the whole file's layer: with an
additive counter (``AdditiveCounter``) a file layer costs its frame (the data block's first and
last lines, whose nonce is always four tokens) plus each span block with its line break, since
every junction is a cut point: the frame's first line ends in a letter, and each block and the
closing line start a line with a path or ``>``. A path that starts with a space or ``/`` (or a
counter that does not add up) is counted whole; a test checks both ways agree.

``benchmarks/pack.py`` measures exactly this path (gold-in-budget at 2k-16k tokens).
Left out: re-reading files to widen a hit to its enclosing definition.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from contextos.context.blocks import frame_foot, frame_head, merge_hits, span_block
from contextos.context.counting import TokenCounter, additive_parts
from contextos.context.layers import Layer
from contextos.context.report import SEPARATOR
from contextos.context.sources import code_layers, quoted_source
from contextos.types import SearchHit

__all__ = ["code_depth", "consecutive", "select_code"]

_MIN_DEPTH = 300
_TOKENS_PER_HIT = 50
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
    cost: dict[str, int] = {}
    layer_cost = _LayerCost(counter)
    used = 0
    for hit in hits:
        if room - used < _LEAST_ROOM:
            break
        if not consecutive(hit):
            continue
        trial = [*chosen.get(hit.path, []), hit]
        new = layer_cost(trial)
        if used + new - cost.get(hit.path, 0) <= room:
            used += new - cost.get(hit.path, 0)
            chosen[hit.path], cost[hit.path] = trial, new
    kept = {id(h) for file_hits in chosen.values() for h in file_hits}
    layers = code_layers(merge_hits([h for h in hits if id(h) in kept]))
    return [dataclasses.replace(x, min_tokens=cost[x.id.removeprefix("code:")]) for x in layers]


class _LayerCost:
    """What ``pack`` charges for the code layer of one file's hits, counted by parts when the
    counter adds up (see module doc), the parts remembered across trials."""

    def __init__(self, counter: TokenCounter) -> None:
        self._counter = counter
        self._parts = additive_parts(counter)
        self._memo: dict[str, int] = {}

    def __call__(self, hits: list[SearchHit]) -> int:
        excerpt = merge_hits(hits)[0]
        if self._parts is None or not excerpt.path[:1].strip() or excerpt.path[0] == "/":
            layer = code_layers([excerpt])[0]
            return self._counter.count(layer.render(layer.body()) + SEPARATOR)
        source = quoted_source(excerpt.path)
        pieces = [
            frame_head(source, _ANY_NONCE),
            "\n",
            *(span_block(excerpt.path, excerpt.language, s) + "\n" for s in excerpt.spans),
            frame_foot(_ANY_NONCE) + SEPARATOR,
        ]
        return self._parts[1](sum(map(self._part, pieces)))

    def _part(self, text: str) -> int:
        n = self._memo.get(text)
        if n is None:
            assert self._parts is not None
            n = self._memo[text] = self._parts[0].count(text)
        return n


_ANY_NONCE = "0" * 12
"""Every nonce is twelve digits, four tokens in either encoding: any one counts the same."""

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

``benchmarks/pack.py`` measures exactly this path (gold-in-budget at 2k-16k tokens).
Left out: re-reading files to widen a hit to its enclosing definition.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from contextos.context.blocks import merge_hits
from contextos.context.counting import TokenCounter
from contextos.context.layers import Layer
from contextos.context.report import SEPARATOR
from contextos.context.sources import code_layers
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
    used = 0
    for hit in hits:
        if room - used < _LEAST_ROOM:
            break
        if not consecutive(hit):
            continue
        trial = [*chosen.get(hit.path, []), hit]
        new = _layer_cost(trial, counter)
        if used + new - cost.get(hit.path, 0) <= room:
            used += new - cost.get(hit.path, 0)
            chosen[hit.path], cost[hit.path] = trial, new
    kept = {id(h) for file_hits in chosen.values() for h in file_hits}
    layers = code_layers(merge_hits([h for h in hits if id(h) in kept]))
    return [dataclasses.replace(x, min_tokens=cost[x.id.removeprefix("code:")]) for x in layers]


def _layer_cost(hits: list[SearchHit], counter: TokenCounter) -> int:
    layer = code_layers(merge_hits(hits))[0]
    return counter.count(layer.render(layer.body()) + SEPARATOR)

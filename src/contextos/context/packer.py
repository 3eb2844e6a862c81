"""``pack(layers, budget, counter) -> Pack``: choose and shrink layers to fit a token budget. Pure.

Guarantees (property-tested in ``tests/test_context_pack.py``):

1. ``used <= budget``, always; reserved layers that need more than the budget raise.
2. Reserved layers (``reserved_tokens > 0``) whose condition holds are always included.
3. A layer is never dropped for lack of room while a layer of lower priority stays
   (reserved layers excepted: they stay whatever their priority).
4. A compressible layer is shrunk, down to its smallest form, before it is dropped.

Two passes over the live layers in priority order (ties: given order). *Select*: every layer
commits its smallest size (``min_tokens``, at least its wrapper plus a few tokens, or its whole
size if smaller or not compressible; reserved layers commit their reservation); the first layer
whose smallest size does not fit is dropped, and with it every lower-priority one. *Allocate*:
each selected layer gets its full size if what is left, after keeping the commitments of the
layers still to come, allows; otherwise it is compressed into that room (the compressor's answer
if it fits, else the head of the text, else the wrapper alone: one always fits).

Work follows what is packed, not what is offered. Costs are measured on the rendered text plus
``SEPARATOR``. With a counter that adds up over parts (``AdditiveCounter``: the exact BPE
counters and estimates over them) a layer is counted only as far as a decision needs
(``LazyCount``): the layers that probably fit whole are counted in one batch (spread over
threads) and of the others a prefix, enough to settle their smallest size and, for those that
must shrink, to prove that they do not fit whole. Compressors run only for layers that
must shrink and are offered an ``estimate`` of the body instead of counting it; what they return
is counted exactly, and only exact counts of packed texts make up ``used``. Whole sizes of layers
left partly uncounted are counted when a report reads them. Left out: optimal (knapsack)
packing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from contextos.context.compress import head
from contextos.context.counting import (
    LazyCount,
    TokenCounter,
    additive_parts,
    count_all,
    prefix_end,
)
from contextos.context.layers import Layer, State
from contextos.context.report import SEPARATOR, Cause, LayerReport, Pack
from contextos.errors import UserInputError

__all__ = ["pack"]

_MIN_BODY = 8
_CHARS_PER_TOKEN = 4
"""Characters per token assumed when guessing which layers fit whole (counted in one batch);
a wrong guess costs time, never correctness."""
_SLACK = 4
"""Tokens past its smallest size to count of a layer that will likely shrink: the room it gets
is its smallest size plus what the layers before it left over."""


@dataclass(slots=True)
class _Live:
    index: int
    layer: Layer
    body: str
    rendered: str
    whole: LazyCount  # the whole rendered layer plus SEPARATOR
    overhead: int = 0  # tokens of the wrapper alone (compressible layers)
    smallest: int = 0  # a compressible layer's least size: min_tokens, at least wrapper + 8
    capped: tuple[str, int] | None = None  # compressed to max_tokens, and its cost
    floor: int | None = None  # the least it may be shrunk to, once worked out
    commit: int = 0

    @property
    def text(self) -> str:
        """The largest form allowed: the whole layer, or its compression to ``max_tokens``."""
        return self.capped[0] if self.capped is not None else self.rendered

    def at_least(self, n: int) -> bool:
        """Whether the largest form allowed costs ``n`` tokens or more."""
        return self.capped[1] >= n if self.capped is not None else self.whole.at_least(n)

    def size(self) -> int:
        return self.capped[1] if self.capped is not None else self.whole.total()

    def upto(self, n: int) -> int:
        """``min(size, n)``, counting no further than ``n``."""
        return n if self.at_least(n) else self.size()

    def least(self) -> int:
        """The least it may be shrunk to: ``smallest``, or its size if smaller or rigid."""
        if self.floor is None:
            rigid = self.layer.compressor is None
            self.floor = self.size() if rigid else self.upto(self.smallest)
        return self.floor


class _Memo:
    """``counter`` with counts memoised (compressors re-count the same texts), which also
    offers compressors an ``estimate`` of the body being shrunk: its rendered cost less the
    wrapper's, known from measuring the layer, so they need not count the whole body again.
    With an additive counter it also memoises counts of parts (``part``)."""

    def __init__(self, counter: TokenCounter) -> None:
        self.counter = self._counter = counter
        self.parts = additive_parts(counter)
        self._seen: dict[str, int] = {}
        self._part_seen: dict[str, int] = {}
        self._shrinking: tuple[str, int] | None = None
        self.name, self.margin = counter.name, counter.margin

    def count(self, text: str) -> int:
        n = self._seen.get(text)
        if n is None:
            n = self._seen[text] = self._counter.count(text)
        return n

    def count_many(self, texts: Sequence[str]) -> list[int]:
        new = list(dict.fromkeys(t for t in texts if t not in self._seen))
        self._seen.update(zip(new, count_all(self._counter, new), strict=True))
        return [self._seen[t] for t in texts]

    def part(self, text: str) -> int:
        """The additive part count of ``text`` (only with an additive counter)."""
        n = self._part_seen.get(text)
        if n is None:
            assert self.parts is not None
            n = self._part_seen[text] = self.parts[0].count(text)
        return n

    def shrinking(self, body: str, tokens: int) -> None:
        """Say which body compressors are about to shrink, and about what it counts."""
        self._shrinking = (body, tokens)

    def estimate(self, text: str) -> int | None:
        """About what ``text`` counts, if it is the body being shrunk; else None."""
        if self._shrinking is None or text != self._shrinking[0]:
            return None
        return self._shrinking[1]


class _InFrame:
    """The counter compressors get while a framed layer shrinks (its wrap has ``frame``, e.g.
    ``blocks.Quoted``, and the counter is additive). The frame's first line ends in a letter
    and its last line starts with ``>``, so a rendered body costs ``first + ("\\n" + body +
    "\\n") + (last + SEPARATOR)`` in parts: a text counts what its middle part adds over an
    empty body's, which is what it adds to the pack (exactly, for an exact counter), and the
    packer's check of the result (``_framed_cost``) finds that part memoised and counts only
    the two short frame lines."""

    def __init__(self, memo: _Memo) -> None:
        assert memo.parts is not None
        self._memo, self._scale = memo, memo.parts[1]
        self._empty = self._scale(memo.part("\n\n"))
        self.name, self.margin = memo.name, memo.margin

    def count(self, text: str) -> int:
        return max(self._scale(self._memo.part("\n" + text + "\n")) - self._empty, 0)

    def estimate(self, text: str) -> int | None:
        return self._memo.estimate(text)


def pack(
    layers: Sequence[Layer], budget: int, counter: TokenCounter, state: State | None = None
) -> Pack:
    """Pack ``layers`` into ``budget`` tokens as measured by ``counter``; see module doc."""
    if budget < 0:
        raise UserInputError(f"budget must not be negative, got {budget}")
    if len({layer.id for layer in layers}) != len(layers):
        raise UserInputError("layer ids must be unique")
    state = state or State()
    memo = _Memo(counter)
    reports: dict[int, LayerReport] = {}
    built: list[tuple[int, Layer]] = []
    for i, layer in enumerate(layers):
        if layer.expired(state):
            why = f"expired: shown for {layer.ttl} turn(s) from turn {layer.born}"
            reports[i] = LayerReport.of(layer, "expired", f"{why}, now turn {state.turn}")
        elif layer.condition is not None and not layer.condition(state):
            why = "condition not met: " + (layer.why or "-")
            reports[i] = LayerReport.of(layer, "condition", why)
        else:
            built.append((i, layer))
    live: list[_Live] = []
    for item in _measure(built, memo, budget):
        cap = item.layer.max_tokens
        if cap is not None and not item.layer.reserved and item.at_least(cap + 1):
            msg = f"needs {item.size()} tokens, over its max_tokens {cap} and cannot shrink"
            reports[item.index] = LayerReport.of(item.layer, "over_max", msg, item.whole)
        else:
            live.append(item)
    order = sorted(live, key=lambda c: -c.layer.priority)
    selected = _select(order, budget, reports)
    _allocate(selected, budget, memo, reports)
    return Pack(budget, counter.name, tuple(reports[i] for i in range(len(layers))))


def _select(order: list[_Live], budget: int, reports: dict[int, LayerReport]) -> list[_Live]:
    for c in order:
        if c.layer.reserved:
            c.commit = c.upto(max(c.layer.reserved_tokens, c.least()))
    committed = sum(c.commit for c in order)
    if committed > budget:
        raise UserInputError(
            f"reserved layers need {committed} tokens, more than the budget of {budget}: "
            "raise the budget"
        )
    selected: list[_Live] = []
    dropped: _Live | None = None
    for c in order:
        layer = c.layer
        if layer.reserved:
            selected.append(c)
            continue
        if dropped is not None and layer.priority < dropped.layer.priority:
            msg = f"dropped: higher-priority {dropped.layer.id} (priority {dropped.layer.priority})"
            reports[c.index] = LayerReport.of(
                layer, "cascade", msg + " did not fit", c.whole, c.body
            )
            continue
        need = c.least()
        if committed + need <= budget:
            c.commit = need
            committed += need
            selected.append(c)
        else:
            even = " even shrunk" if layer.compressor is not None and c.at_least(need + 1) else ""
            msg = f"needs {need} tokens{even}, only {budget - committed} left"
            reports[c.index] = LayerReport.of(layer, "no_room", msg, c.whole, c.body)
            dropped = dropped or c
    return selected


def _allocate(
    selected: list[_Live], budget: int, counter: _Memo, reports: dict[int, LayerReport]
) -> None:
    pending = sum(c.commit for c in selected)
    used = 0
    for c in selected:
        pending -= c.commit
        room = budget - used - pending
        label = "reserved; " if c.layer.reserved else ""
        full: int | LazyCount = c.whole
        if not c.at_least(room + 1):
            text, tokens = c.text, c.size()
            if c.capped is None:
                cause: Cause = "fit"
                full, msg = tokens, f"fits whole ({tokens} of {tokens} tokens)"
            else:
                cause, msg = (
                    "capped",
                    f"capped at max_tokens {c.layer.max_tokens} ({tokens} tokens)",
                )
        else:
            text, tokens = _shrink(c, room, counter)
            cause, msg = "shrunk", f"shrunk to {tokens} tokens to fit the {room} left"
        used += tokens
        reports[c.index] = LayerReport.of(c.layer, cause, label + msg, full, c.body, text, tokens)


def _measure(built: list[tuple[int, Layer]], memo: _Memo, budget: int) -> list[_Live]:
    """Every layer rendered, with its cost to be counted as needed and, if it can shrink, the
    cost of its wrapper (the wrappers are counted in one batch)."""
    bodies = [layer.body() for _, layer in built]
    texts = [layer.render(body) for (_, layer), body in zip(built, bodies, strict=True)]
    shrinkable = [k for k, (_, layer) in enumerate(built) if layer.compressor is not None]
    wrappers = memo.count_many([built[k][1].render("") + SEPARATOR for k in shrinkable])
    overheads = dict(zip(shrinkable, wrappers, strict=True))
    smallest = {k: max(built[k][1].min_tokens, n + _MIN_BODY) for k, n in overheads.items()}
    wholes = _wholes([layer for _, layer in built], texts, smallest, memo, budget)
    items = []
    for k, (index, layer) in enumerate(built):
        item = _Live(index, layer, bodies[k], texts[k], wholes[k])
        if k in overheads:
            item.overhead, item.smallest = overheads[k], smallest[k]
            cap = layer.max_tokens
            if cap is not None and cap >= item.smallest and item.whole.at_least(cap + 1):
                item.capped = _shrink(item, cap, memo)
        items.append(item)
    return items


def _wholes(
    layers: list[Layer], texts: list[str], smallest: dict[int, int], memo: _Memo, budget: int
) -> list[LazyCount]:
    """Each rendered layer plus ``SEPARATOR``, to be counted as far as needed (``LazyCount``).

    A layer ``counted`` under this counter's name is taken at its word. Of the others, counted
    whole now, in one batch: every layer when the counter is not additive; else the
    rigid layers (their whole size is their smallest) and, highest priority first, the
    compressible layers that probably fit whole (sizes guessed at ``_CHARS_PER_TOKEN``) next to
    the smallest sizes of all the others. Of every other layer the batch counts a prefix long
    enough to prove that it does not fit in about its smallest size. Guesses cost time, never
    correctness."""
    costed = [t + SEPARATOR for t in texts]
    name = memo.counter.name
    known = {
        k: layer.counted[1]
        for k, layer in enumerate(layers)
        if layer.counted is not None and layer.counted[0] == name
    }
    out = {k: LazyCount.known(costed[k], n) for k, n in known.items()}
    todo = [k for k in range(len(layers)) if k not in known]
    parts = additive_parts(memo.counter)
    if parts is None:
        counts = memo.count_many([costed[k] for k in todo])
        out.update((k, LazyCount.known(costed[k], n)) for k, n in zip(todo, counts, strict=True))
        return [out[k] for k in range(len(layers))]
    part, scale = parts
    guess = {k: len(costed[k]) // _CHARS_PER_TOKEN for k in todo}
    room = budget - sum(known.values()) - sum(smallest.get(k, guess[k]) for k in todo)
    whole = {k for k in todo if k not in smallest}
    for k in sorted((k for k in todo if k in smallest), key=lambda k: -layers[k].priority):
        room -= max(guess[k] - smallest[k], 0)
        if room < 0:
            break
        whole.add(k)
    ends = [
        len(costed[k]) if k in whole else prefix_end(costed[k], smallest[k] + _SLACK) for k in todo
    ]
    counts = part.count_many([costed[k][:end] for k, end in zip(todo, ends, strict=True)])
    out.update(
        (k, LazyCount(costed[k], part.count, scale, (end, n)))
        for k, end, n in zip(todo, ends, counts, strict=True)
    )
    return [out[k] for k in range(len(layers))]


def _shrink(c: _Live, limit: int, memo: _Memo) -> tuple[str, int]:
    """``c`` compressed so its rendered text costs ≤ ``limit`` (≥ its overhead): the
    compressor's answer, else the head of the text, else the wrapper alone."""
    assert c.layer.compressor is not None
    target = limit - c.overhead
    memo.shrinking(c.body, max(c.whole.estimate() - c.overhead, 0))
    frame: Callable[[str], tuple[str, str]] | None = getattr(c.layer.wrap, "frame", None)
    inside: TokenCounter = memo
    if frame is not None and memo.parts is not None:
        inside = _InFrame(memo)
    for compress in (c.layer.compressor, c.layer.compressor, head):
        if target <= 0:
            break
        small = compress(c.body, target, inside)
        text, cost = _framed_cost(small, frame, memo) if inside is not memo else (None, None)
        if text is None or cost is None:
            text = c.layer.render(small)
            cost = _cost(text, memo)
        if cost <= limit and small.strip():
            return text, cost
        target -= max(cost - limit, 1)
    return c.layer.render(""), c.overhead


def _framed_cost(
    body: str, frame: Callable[[str], tuple[str, str]] | None, memo: _Memo
) -> tuple[str | None, int | None]:
    """The rendered text of a framed layer and its exact cost, summed from parts when the
    frame's lines meet the cut points (see ``_InFrame``); ``(None, None)`` when they do not."""
    assert frame is not None and memo.parts is not None
    first, last = frame(body)
    if not (first[-1:].isascii() and first[-1:].isalnum()) or not _starts_a_cut(last):
        return None, None
    parts = memo.part(first) + memo.part("\n" + body + "\n") + memo.part(last + SEPARATOR)
    return f"{first}\n{body}\n{last}", memo.parts[1](parts)


def _starts_a_cut(line: str) -> bool:
    """Whether a ``\\n`` before ``line`` is a cut point: it starts with neither a space nor
    ``/`` (see ``contextos.tokens.LINE_END_CUT``)."""
    return bool(line) and not line[0].isspace() and line[0] != "/"


def _cost(text: str, counter: TokenCounter) -> int:
    return counter.count(text + SEPARATOR)

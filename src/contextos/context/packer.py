"""``pack(layers, budget, counter)``: choose and shrink layers to fit a token budget. Pure.

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
if it fits, else the head of the text, else the wrapper alone: one always fits). Costs are
measured on the rendered text plus ``SEPARATOR``, each distinct text counted once per call (the
whole layers and their wrappers in one batch, see ``count_all``), and compressors run only for
layers that must shrink. A compressor is offered an ``estimate`` of the body it shrinks (the
layer's cost less its wrapper's) instead of counting it again; what it returns is counted
exactly, rendered, and only exact counts of packed texts make up ``used``. Left out: optimal
(knapsack) packing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from contextos.context.compress import head
from contextos.context.counting import TokenCounter, count_all
from contextos.context.layers import Layer, State
from contextos.context.report import SEPARATOR, Cause, LayerReport, Pack
from contextos.errors import UserInputError

__all__ = ["pack"]

_MIN_BODY = 8


@dataclass(slots=True)
class _Live:
    index: int
    layer: Layer
    body: str
    raw: int  # tokens of the whole rendered layer
    text: str  # the largest form allowed (whole, or compressed to max_tokens)
    size: int
    overhead: int  # tokens of the wrapper alone
    floor: int  # the least it may be shrunk to
    commit: int = 0


class _Memo:
    """``counter`` with counts memoised (compressors re-count the same texts), which also
    offers compressors an ``estimate`` of the body being shrunk: its rendered cost less the
    wrapper's, known from measuring the layer, so they need not count the whole body again."""

    def __init__(self, counter: TokenCounter) -> None:
        self._counter = counter
        self._seen: dict[str, int] = {}
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

    def shrinking(self, body: str, tokens: int) -> None:
        """Say which body compressors are about to shrink, and about what it counts."""
        self._shrinking = (body, tokens)

    def estimate(self, text: str) -> int | None:
        """About what ``text`` counts, if it is the body being shrunk; else None."""
        if self._shrinking is None or text != self._shrinking[0]:
            return None
        return self._shrinking[1]


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
    for item in _measure(built, memo):
        cap = item.layer.max_tokens
        if cap is not None and item.size > cap and not item.layer.reserved:
            msg = f"needs {item.size} tokens, over its max_tokens {cap} and cannot shrink"
            reports[item.index] = LayerReport.of(item.layer, "over_max", msg, item.raw)
        else:
            live.append(item)
    order = sorted(live, key=lambda c: -c.layer.priority)
    selected = _select(order, budget, reports)
    _allocate(selected, budget, memo, reports)
    return Pack(budget, counter.name, tuple(reports[i] for i in range(len(layers))))


def _select(order: list[_Live], budget: int, reports: dict[int, LayerReport]) -> list[_Live]:
    for c in order:
        if c.layer.reserved:
            c.commit = min(c.size, max(c.layer.reserved_tokens, c.floor))
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
        elif dropped is not None and layer.priority < dropped.layer.priority:
            msg = f"dropped: higher-priority {dropped.layer.id} (priority {dropped.layer.priority})"
            reports[c.index] = LayerReport.of(layer, "cascade", msg + " did not fit", c.raw, c.body)
        elif committed + c.floor <= budget:
            c.commit = c.floor
            committed += c.floor
            selected.append(c)
        else:
            room = budget - committed
            need = f"{c.floor} tokens even shrunk" if c.floor < c.size else f"{c.size} tokens"
            reports[c.index] = LayerReport.of(
                layer, "no_room", f"needs {need}, only {room} left", c.raw, c.body
            )
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
        if c.size <= room:
            text, tokens = c.text, c.size
            cause: Cause = "fit" if c.size == c.raw else "capped"
            msg = "fits whole" if cause == "fit" else f"capped at max_tokens {c.layer.max_tokens}"
        else:
            text, tokens = _shrink(c, room, counter)
            cause, msg = "shrunk", f"shrunk to fit the {room} tokens left"
        used += tokens
        reason = f"{label}{msg} ({tokens} of {c.raw} tokens)"
        reports[c.index] = LayerReport.of(c.layer, cause, reason, c.raw, c.body, text, tokens)


def _measure(built: list[tuple[int, Layer]], memo: _Memo) -> list[_Live]:
    """Every layer's whole cost and, if it can shrink, its wrapper's: counted in one batch."""
    bodies = [layer.body() for _, layer in built]
    texts = [layer.render(body) for (_, layer), body in zip(built, bodies, strict=True)]
    wrappers = [layer.render("") if layer.compressor is not None else "" for _, layer in built]
    costs = memo.count_many([t + SEPARATOR for t in texts] + [w + SEPARATOR for w in wrappers])
    items = []
    for k, ((index, layer), body, text) in enumerate(zip(built, bodies, texts, strict=True)):
        raw, overhead = costs[k], costs[len(built) + k]
        if layer.compressor is None:
            items.append(_Live(index, layer, body, raw, text, raw, 0, raw))
            continue
        smallest = max(layer.min_tokens, overhead + _MIN_BODY)
        item = _Live(index, layer, body, raw, text, raw, overhead, min(raw, smallest))
        cap = layer.max_tokens
        if cap is not None and raw > cap and cap >= smallest:
            item.text, item.size = _shrink(item, cap, memo)
        items.append(item)
    return items


def _shrink(c: _Live, limit: int, counter: _Memo) -> tuple[str, int]:
    """``c`` compressed so its rendered text costs ≤ ``limit`` (≥ its overhead): the
    compressor's answer, else the head of the text, else the wrapper alone."""
    assert c.layer.compressor is not None
    target = limit - c.overhead
    counter.shrinking(c.body, c.raw - c.overhead)
    for compress in (c.layer.compressor, c.layer.compressor, head):
        if target <= 0:
            break
        small = compress(c.body, target, counter)
        text = c.layer.render(small)
        cost = _cost(text, counter)
        if cost <= limit and small.strip():
            return text, cost
        target -= max(cost - limit, 1)
    return c.layer.render(""), c.overhead


def _cost(text: str, counter: TokenCounter) -> int:
    return counter.count(text + SEPARATOR)

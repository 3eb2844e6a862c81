"""The packers ``benchmarks.pack`` compares: how each system turns a ranking into a code context.

Every system's output is a list of contextos code layers (``contextos.context.sources.
code_layers``: one quoted data block per file, ``path:a-b (symbols)`` headers and fenced lines)
packed by ``contextos.context.pack`` into the budget, alone: no system, task or tool layers. The
budget covers everything packed, i.e. each layer's rendered text (data-block wrapper, headers,
fences) plus the separator between layers; the packer counts exactly that.

* ``pack_code``: what ``contextos context`` does with its search hits when code has the whole
  budget: ``contextos.context.code_fill.select_code`` (whole hits best first, each added when
  its file's layer still fits with it, skipped otherwise), then ``pack``.
* ``pack_files``: whole files, best first, each skipped if it does not fit in what is left.

Left out: the other layers of a window, which would only shrink every system's room alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from contextos.context import Excerpt, Layer, TokenCounter, pack
from contextos.context.blocks import Span
from contextos.context.code_fill import select_code
from contextos.context.report import SEPARATOR, Pack
from contextos.context.sources import code_layers
from contextos.types import SearchHit

__all__ = [
    "Packed",
    "layer_cost",
    "pack_code",
    "pack_files",
    "whole_file",
]


@dataclass(frozen=True, slots=True)
class Packed:
    """What a system packed: the text, its cost, and per layer ``(id, status, tokens)``."""

    text: str
    used: int
    layers: tuple[tuple[str, str, int], ...]

    @classmethod
    def of(cls, result: Pack) -> Packed:
        kept = [r for r in result.layers if r.status != "excluded"]
        return cls(
            SEPARATOR.join(r.text for r in kept),
            result.used,
            tuple((r.id, r.status, r.tokens) for r in result.layers),
        )


def layer_cost(layer: Layer, counter: TokenCounter) -> int:
    """What ``pack`` charges for ``layer`` whole: its rendered text plus the separator."""
    return counter.count(layer.render(layer.body()) + SEPARATOR)


def pack_code(hits: Sequence[SearchHit], budget: int, counter: TokenCounter) -> Packed:
    """The product's code selection for ``budget`` tokens, packed; checked to fit unshrunk."""
    layers = select_code(hits, budget, counter)
    packed = Packed.of(pack(layers, budget, counter))
    assert all(status == "included" for _, status, _ in packed.layers), packed.layers
    return packed


def whole_file(path: str, language: str, lines: Sequence[str], rank: int) -> Excerpt:
    """``path`` in full as one excerpt (what ``code_layers`` renders for a whole file)."""
    span = Span(1, len(lines), tuple(lines))
    return Excerpt(path, language, rank, 0.0, (span,))


def pack_files(files: Sequence[Excerpt], budget: int, counter: TokenCounter) -> Packed:
    """Whole files best first; one that does not fit in what is left is skipped."""
    used = 0
    kept: list[Layer] = []
    for layer in code_layers(files):
        cost = layer_cost(layer, counter)
        if used + cost <= budget:
            kept.append(layer)
            used += cost
    packed = Packed.of(pack(kept, budget, counter))
    assert packed.used == used, (packed.used, used)
    return packed

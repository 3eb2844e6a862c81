"""The token counter the packer measures with.

``TokenCounter`` is ``contextos.tokens``'s protocol (``count(text) -> int``, ``name``,
``margin``); ``counter_for(model)`` is its ``counter_for_model``: exact BPE counts for OpenAI
models, a stated estimate for others. ``count_all`` counts many texts at once with a counter's
``count_many`` when it has one (``ExactCounter`` spreads a large batch over threads), else one
by one. ``CharCounter`` and ``WordCounter`` are two tiny, fast counters for tests and for
reasoning about packing in words or characters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from contextos.tokens import TokenCounter, counter_for_model
from contextos.tokens._counters import BatchCounter

__all__ = ["CharCounter", "TokenCounter", "WordCounter", "count_all", "counter_for"]


def counter_for(model: str) -> TokenCounter:
    """The counter for ``model`` (``gpt-4.1``, ``openai:gpt-4.1``, ``claude-sonnet-4``...)."""
    return counter_for_model(model)


def count_all(counter: TokenCounter, texts: Sequence[str]) -> list[int]:
    """``[counter.count(t) for t in texts]``, in one batch if the counter can batch."""
    if isinstance(counter, BatchCounter):
        return counter.count_many(texts)
    return [counter.count(t) for t in texts]


class CharCounter:
    """An estimate: ``ceil(len(text) / chars_per_token)`` tokens. Monotone in prefixes."""

    def __init__(self, chars_per_token: float = 3.0) -> None:
        self._cpt = chars_per_token

    @property
    def name(self) -> str:
        return f"chars/{self._cpt:g}"

    @property
    def margin(self) -> float:
        return 0.0

    def count(self, text: str) -> int:
        return math.ceil(len(text) / self._cpt)


class WordCounter:
    """Whitespace-separated words."""

    @property
    def name(self) -> str:
        return "words"

    @property
    def margin(self) -> float:
        return 0.0

    def count(self, text: str) -> int:
        return len(text.split())

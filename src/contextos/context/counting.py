"""The token counter the packer measures with.

``TokenCounter`` is ``contextos.tokens``'s protocol (``count(text) -> int``, ``name``,
``margin``); ``counter_for(model)`` is its ``counter_for_model``: exact BPE counts for OpenAI
models, a stated estimate for others. ``count_all`` counts many texts at once with a counter's
``count_many`` when it has one (``ExactCounter`` spreads a large batch over threads), else one
by one. ``LazyCount`` counts a text only as far as a question about it needs, for counters that
add up over parts split at line ends (``contextos.tokens.AdditiveCounter``). ``CharCounter`` and
``WordCounter`` are two tiny, fast counters for tests and for
reasoning about packing in words or characters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from contextos.tokens import TokenCounter, counter_for_model
from contextos.tokens._counters import AdditiveCounter, BatchCounter

__all__ = [
    "CharCounter",
    "LazyCount",
    "TokenCounter",
    "WordCounter",
    "additive_parts",
    "count_all",
    "counter_for",
    "prefix_end",
]

_CHARS_PER_MISSING_TOKEN = 4
"""How far past the counted prefix to count, per token still to prove: code and prose run at
3-5 characters per o200k token, so one step usually settles the question."""
_MIN_STEP = 64


def counter_for(model: str) -> TokenCounter:
    """The counter for ``model`` (``gpt-4.1``, ``openai:gpt-4.1``, ``claude-sonnet-4``...)."""
    return counter_for_model(model)


def count_all(counter: TokenCounter, texts: Sequence[str]) -> list[int]:
    """``[counter.count(t) for t in texts]``, in one batch if the counter can batch."""
    if isinstance(counter, BatchCounter):
        return counter.count_many(texts)
    return [counter.count(t) for t in texts]


def additive_parts(counter: TokenCounter) -> tuple[BatchCounter, Callable[[int], int]] | None:
    """``counter.additive()`` if it has one (see ``AdditiveCounter``), else None."""
    return counter.additive() if isinstance(counter, AdditiveCounter) else None


class LazyCount:
    """The tokens of ``text``, counted only as far as the questions asked need.

    ``at_least(n)`` counts prefixes ending at ``contextos.tokens.LINE_END_CUT`` points, where
    the counter adds up exactly, until their sum reaches ``n`` or the text is done: a layer that
    cannot fit is proved too big from its first few hundred characters. ``total()`` counts the
    rest once. ``counted`` gives a head start: ``(end, tokens)``, the count of ``text[:end]``
    (``end`` a cut point or ``len(text)``, e.g. from a batch); ``prefix_end(text, tokens)`` finds
    such an ``end``.
    """

    __slots__ = ("_done", "_part", "_scale", "_sum", "text")

    def __init__(
        self,
        text: str,
        part: Callable[[str], int],
        scale: Callable[[int], int],
        counted: tuple[int, int] = (0, 0),
    ) -> None:
        self.text = text
        self._part, self._scale = part, scale
        self._done, self._sum = counted

    @classmethod
    def known(cls, text: str, total: int) -> LazyCount:
        """A count of ``text`` already known to be ``total``."""
        return cls(text, _never_counted, lambda _: total, (len(text), 0))

    @property
    def exact(self) -> bool:
        return self._done == len(self.text)

    @property
    def lower(self) -> int:
        """A count the whole text reaches for sure (its exact count once ``exact``)."""
        return self._scale(self._sum)

    def at_least(self, n: int) -> bool:
        """Whether the whole text counts ``n`` tokens or more."""
        while self.lower < n and not self.exact:
            self._advance(n - self.lower)
        return self.lower >= n

    def total(self) -> int:
        """The exact count of the whole text."""
        if not self.exact:
            self._sum += self._part(self.text[self._done :])
            self._done = len(self.text)
        return self.lower

    def __call__(self) -> int:
        return self.total()

    def estimate(self) -> int:
        """The exact count if known, else the counted prefix's rate carried over the rest
        (never below ``lower``)."""
        if self._done == 0 and self.text:
            self._advance(1)
        if self.exact:
            return self.lower
        return max(self.lower, self._scale(self._sum * len(self.text) // self._done))

    def _advance(self, missing: int) -> None:
        text = self.text
        end = prefix_end(text, missing, self._done)
        self._sum += self._part(text[self._done : end])
        self._done = end


def _never_counted(text: str) -> int:
    raise AssertionError("a known count is never counted again")


def prefix_end(text: str, tokens: int, start: int = 0) -> int:
    """Where a part of ``text`` from ``start`` likely counting ``tokens`` or more ends, at the
    first cut point past that many characters (or the end of the text)."""
    return _cut_from(text, start + max(tokens * _CHARS_PER_MISSING_TOKEN, _MIN_STEP))


def _cut_from(text: str, start: int) -> int:
    """The first ``LINE_END_CUT`` point on a ``\\n`` at or after ``start``, else ``len(text)``
    (``str.find`` and an anchored match are several times faster than searching the regex)."""
    i = text.find("\n", start)
    while i != -1:
        if i > 0 and text[i - 1] in _ALNUM:
            return i
        if _LINE_START.match(text, i):
            return i + 1
        i = text.find("\n", i + 1)
    return len(text)


_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_LINE_START = re.compile(r"\n(?:[^\s/]|[ \t]+\S)")


class CharCounter:
    """An estimate: ``ceil(len(text) / chars_per_token)`` tokens. Monotone in prefixes, and
    additive through its characters (``additive()``)."""

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

    def additive(self) -> tuple[BatchCounter, Callable[[int], int]]:
        """Characters add up anywhere; the division is applied to their sum."""
        return _Characters(), lambda n: math.ceil(n / self._cpt)


class WordCounter:
    """Whitespace-separated words; additive (a cut point always borders a line break)."""

    @property
    def name(self) -> str:
        return "words"

    @property
    def margin(self) -> float:
        return 0.0

    def count(self, text: str) -> int:
        return len(text.split())

    def count_many(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) for t in texts]

    def additive(self) -> tuple[BatchCounter, Callable[[int], int]]:
        return self, _same


class _Characters:
    name, margin = "characters", 0.0

    def count(self, text: str) -> int:
        return len(text)

    def count_many(self, texts: Sequence[str]) -> list[int]:
        return [len(t) for t in texts]


def _same(n: int) -> int:
    return n

"""The ``TokenCounter`` protocol and its two implementations: exact BPE and a scaled estimate.

``ExactCounter`` counts what OpenAI models see: tiktoken's Rust BPE over our bundled ranks.
``count`` is one ``encode_ordinary`` call. ``benchmarks.micro.tokens_throughput`` measured it on
10 MB of installed Python sources at about 23 MB/s (o200k_base) and 14 MB/s (cl100k_base) of
one core's CPU time, above the 10 MB/s target. The alternatives were not worth their code: the
numpy buffer was within 4%, a cache of per-line counts gained 13% on cl100k and nothing on
o200k, a one-thread batch call and a regex-split piece cache were slower (the regex split
alone, in Python, costs more than the whole Rust encode). Special-token text such as
``<|endoftext|>`` is counted as the ordinary text it is: files and tool output that contain it
must never raise or shrink to one token. ``count_many`` counts a batch; a large one is split over
threads, one slice each (the Rust encoder releases the GIL). tiktoken's ``encode_ordinary_batch``
submits a task per text, which on 1,000 short texts cost more CPU than one-by-one counting.

``EstimatingCounter`` serves models whose tokenizer is private (Claude): an exact count under a
public encoding times a safety factor, rounded up. Its ``margin`` says how much was added, so a
caller can tell an estimate from an exact count.

Both counters are *additive* at line ends (``additive()``): the count of a text is the sum of
the counts of its parts when it is split at ``LINE_END_CUT`` points, because BPE runs per
pre-tokenizer piece and neither encoding's pre-tokenizer lets a piece span such a point. They
are: between an ASCII letter or digit and a line break (letter and number pieces stop at a break
and never start with one), and right after a ``\n`` that starts a non-blank line not beginning
with ``/`` (newline runs and punctuation pieces take trailing breaks, and ``/`` after them, but
stop there; whitespace runs reaching a later break are excluded by "non-blank"). A counted
prefix is then an exact lower bound, which lets the packer stop counting a layer once it is
known not to fit (``contextos.context.counting.LazyCount``). Tests check the sums on installed
sources, in both encodings, and on generated text.

Left out: chat-message framing overhead (a few tokens per message; it belongs to whoever builds
the messages) and images.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import Protocol, runtime_checkable

from contextos.errors import UserInputError
from contextos.tokens._encodings import ENCODINGS, load_encoding

__all__ = [
    "LINE_END_CUT",
    "AdditiveCounter",
    "BatchCounter",
    "EstimatingCounter",
    "ExactCounter",
    "TokenCounter",
]

LINE_END_CUT = re.compile(r"[A-Za-z0-9](?=[\r\n])|\n(?=[^\s/]|[ \t]+\S)")
"""Its match ends are the points where additive counters split exactly (see the module doc)."""

_PARALLEL_CHARS = 200_000
"""Below this many characters a batch is counted in the calling thread: starting threads would
cost more than they save."""


@runtime_checkable
class TokenCounter(Protocol):
    """Counts the tokens a model would see for a text.

    Contract: ``count("") == 0``; ``count`` never raises for any ``str`` (lone surrogates
    included) and never treats text as a special token.
    """

    @property
    def name(self) -> str:
        """Short label for reports, e.g. ``o200k_base`` or ``o200k_base*1.3``."""
        ...

    @property
    def margin(self) -> float:
        """Safety margin folded into ``count``, as a fraction: 0.0 for exact counters, 0.3 for
        a count scaled by 1.3 to cover an unknown tokenizer."""
        ...

    def count(self, text: str) -> int:
        """Number of tokens in ``text``."""
        ...


@runtime_checkable
class BatchCounter(TokenCounter, Protocol):
    """A ``TokenCounter`` that can also count many texts at once, faster than one by one.

    Optional: callers that hold a plain ``TokenCounter`` fall back to ``count`` per text.
    Contract: ``count_many(texts) == [count(t) for t in texts]``.
    """

    def count_many(self, texts: Sequence[str]) -> list[int]:
        """``[count(t) for t in texts]``."""
        ...


@runtime_checkable
class AdditiveCounter(TokenCounter, Protocol):
    """A ``TokenCounter`` whose count can be summed over parts of a text.

    Contract: ``additive()`` gives ``(part, scale)`` such that for any split of a text at match
    ends of ``LINE_END_CUT``, ``count(text) == scale(sum(part.count(p) for p in parts))``, with
    ``scale`` non-decreasing and ``scale(0) == 0``; or None when this instance is not additive
    after all (an estimate over a counter that is not).
    """

    def additive(self) -> tuple[BatchCounter, Callable[[int], int]] | None:
        """The exact counter of the parts and the map from their summed count to ``count``."""
        ...


class ExactCounter:
    """Exact token counts and ids for one bundled OpenAI encoding (see ``ENCODINGS``).

    Cheap to construct; the encoding is loaded on the first ``count``/``encode`` and shared by
    every counter of the same name. Thread-safe.
    """

    def __init__(self, encoding: str = "o200k_base") -> None:
        if encoding not in ENCODINGS:
            known = ", ".join(sorted(ENCODINGS))
            raise UserInputError(f"unknown encoding {encoding!r}: use one of {known}")
        self._name = encoding

    @property
    def name(self) -> str:
        """The encoding name, e.g. ``cl100k_base``."""
        return self._name

    @property
    def margin(self) -> float:
        """Always 0.0: the count is exact."""
        return 0.0

    def count(self, text: str) -> int:
        """Number of tokens in ``text``; equals ``len(self.encode(text))``."""
        return len(load_encoding(self._name).encode_ordinary(text))

    def count_many(self, texts: Sequence[str]) -> list[int]:
        """``[self.count(t) for t in texts]``; a large batch is split across up to 8 threads."""
        encode = load_encoding(self._name).encode_ordinary
        texts = list(texts)
        workers = min(_cpus(), 8, len(texts))
        if workers < 2 or sum(map(len, texts)) < _PARALLEL_CHARS:
            return [len(encode(t)) for t in texts]

        def part(i: int) -> list[int]:
            return [len(encode(t)) for t in texts[i::workers]]

        counts = [0] * len(texts)
        with ThreadPoolExecutor(workers - 1) as pool:
            others = [pool.submit(part, i) for i in range(1, workers)]
            counts[0::workers] = part(0)
            for i, future in enumerate(others, start=1):
                counts[i::workers] = future.result()
        return counts

    def additive(self) -> tuple[BatchCounter, Callable[[int], int]] | None:
        """``(self, identity)``: BPE counts add up over parts split at line ends."""
        return self, _same

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``, special-token text encoded as ordinary text."""
        return load_encoding(self._name).encode_ordinary(text)

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids``; a sequence cut inside a multi-byte character decodes to U+FFFD."""
        return load_encoding(self._name).decode(list(ids))

    def __repr__(self) -> str:
        return f"ExactCounter({self._name!r})"


class EstimatingCounter:
    """``ceil(base.count(text) * factor)``: an upper-leaning estimate for a private tokenizer.

    The factor is kept as a fraction (1.3 is 13/10), so 10 base tokens give exactly 13, not 14
    from float noise. ``factor`` must be at least 1: an estimate never undercounts its base.
    """

    def __init__(self, base: TokenCounter, factor: float, *, label: str | None = None) -> None:
        if factor < 1:
            raise UserInputError(f"estimate factor must be >= 1, got {factor}")
        self._base = base
        self._factor = Fraction(factor).limit_denominator(1000)
        self._name = label or f"{base.name}*{float(self._factor):g}"

    @property
    def name(self) -> str:
        """``<base>*<factor>`` unless a label was given."""
        return self._name

    @property
    def base(self) -> TokenCounter:
        """The counter whose counts are scaled."""
        return self._base

    @property
    def factor(self) -> float:
        """The safety factor applied to the base count."""
        return float(self._factor)

    @property
    def margin(self) -> float:
        """How much the count is inflated over an exact one: ``(1 + base.margin) * factor - 1``."""
        base = Fraction(self._base.margin).limit_denominator(1000)
        return float((1 + base) * self._factor - 1)

    def count(self, text: str) -> int:
        """The base count times the factor, rounded up."""
        return self._scale(self._base.count(text))

    def count_many(self, texts: Sequence[str]) -> list[int]:
        """``[self.count(t) for t in texts]``, batched when the base counter can batch."""
        base = self._base
        if isinstance(base, BatchCounter):
            return [self._scale(n) for n in base.count_many(texts)]
        return [self._scale(base.count(t)) for t in texts]

    def additive(self) -> tuple[BatchCounter, Callable[[int], int]] | None:
        """The base's parts, scaled once over their sum (rounding each part would overcount);
        None when the base counter is not additive."""
        base = self._base.additive() if isinstance(self._base, AdditiveCounter) else None
        if base is None:
            return None
        part, inner = base
        return part, lambda n: self._scale(inner(n))

    def _scale(self, n: int) -> int:
        scaled = n * self._factor
        return -(-scaled.numerator // scaled.denominator)

    def __repr__(self) -> str:
        return f"EstimatingCounter({self._base!r}, {float(self._factor):g})"


def _same(n: int) -> int:
    return n


def _cpus() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1

"""Word families for prose queries: ``parsed``, ``parser`` and ``parsing`` are one word.

Code is indexed without stemming (identifiers are not English), so a question asking how
chunked encoding "is parsed" misses ``http_parser.py`` and a chunk about "registering" routes
misses the query word "registered". ``stem`` strips one common English suffix (a light
suffix stripper, not Porter: it only has to make the forms of one word meet, never to produce a
real root), and ``family_terms`` finds, at query time, the terms of an index vocabulary sharing
a query word's stem. The index is untouched; only the query grows.

Left out: irregular forms (``ran``/``run``), prefixes, and any stemming of the indexed text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

__all__ = ["family_terms", "stem", "stem_groups"]

_SUFFIXES = (
    "ations",
    "ation",
    "ings",
    "ing",
    "ers",
    "ies",
    "er",
    "es",
    "ed",
    "ly",
    "s",
    "e",
    "y",
)
_MIN_STEM = 3


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """``word`` lower-cased without its first matching suffix, keeping at least three letters;
    words of four letters or fewer, and ``-ss``/``-us``/``-is`` endings, are kept whole."""
    low = word.lower()
    if len(low) <= 4 or not low.isalpha():
        return low
    for suffix in _SUFFIXES:
        if low.endswith(suffix) and len(low) - len(suffix) >= _MIN_STEM:
            if suffix == "s" and low[-2] in "sui":
                return low
            return low[: -len(suffix)]
    return low


def stem_groups(vocab: Iterable[str]) -> dict[str, list[str]]:
    """``{stem: [terms]}`` over the alphabetic terms of ``vocab`` (what ``family_terms`` reads)."""
    groups: dict[str, list[str]] = {}
    for term in vocab:
        if term.isalpha() and len(term) > 4:
            groups.setdefault(stem(term), []).append(term)
    return groups


def family_terms(word: str, groups: Mapping[str, list[str]]) -> list[str]:
    """The terms of ``groups`` sharing ``word``'s stem, ``word`` itself left out."""
    if len(word) <= 4 or not word.isalpha():
        return []
    return [t for t in groups.get(stem(word), ()) if t != word]

"""Code-aware tokenisation for lexical search.

Identifiers are kept whole *and* split into their parts: ``parse_HTTPResponse`` yields
``parse_httpresponse``, ``parse``, ``http``, ``response``; ``sympy/core/basic.py`` yields
``sympy``, ``core``, ``basic``, ``py``. Everything is lower-cased. Stop words of English prose and
of very common keywords are dropped because they carry no signal in BM25 over code. Stemming is
left out on purpose: identifiers are not English words.
"""

from __future__ import annotations

import re
from itertools import chain

__all__ = ["STOPWORDS", "code_tokens", "split_identifier"]

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "this",
        "to",
        "was",
        "were",
        "will",
        "with",
        "not",
        "no",
        "can",
        "do",
        "does",
        "did",
        "we",
        "you",
        "i",
        "he",
        "she",
        "they",
        "them",
        "our",
        "your",
        "my",
        "me",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "how",
        "all",
        "any",
        "some",
        "such",
        "than",
        "too",
        "very",
        "just",
        "also",
        "should",
        "would",
        "could",
        "may",
        "might",
        "must",
        "been",
        "being",
        "am",
        "self",
        "cls",
        "none",
        "true",
        "false",
        "def",
        "return",
        "import",
        "class",
    ]
)


def split_identifier(word: str) -> list[str]:
    """Split ``snake_case`` and ``camelCase`` into lower-cased parts (without the whole word)."""
    parts: list[str] = []
    for piece in word.split("_"):
        if piece:
            parts.extend(p.lower() for p in _CAMEL.findall(piece))
    return parts


def _expand(word: str, keep_stopwords: bool) -> tuple[str, ...]:
    low = word.lower()
    out: list[str] = []
    if len(low) > 1 and (keep_stopwords or low not in STOPWORDS):
        out.append(low)
    parts = split_identifier(word)
    if len(parts) > 1:
        out.extend(
            p for p in parts if len(p) > 1 and p != low and (keep_stopwords or p not in STOPWORDS)
        )
    return tuple(out)


class _Expansions(dict[str, tuple[str, ...]]):
    """``_expand`` of every word seen so far, for one ``keep_stopwords``: a word repeats, and
    a plain dict lookup per word is most of what tokenising then costs."""

    def __init__(self, keep_stopwords: bool) -> None:
        super().__init__()
        self.keep_stopwords = keep_stopwords

    def __missing__(self, word: str) -> tuple[str, ...]:
        tokens = self[word] = _expand(word, self.keep_stopwords)
        return tokens


_MEMO_WORDS = 500_000
_EXPANSIONS = {False: _Expansions(False), True: _Expansions(True)}


def code_tokens(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """Tokens of ``text`` for BM25: whole identifiers plus their parts, lower-cased."""
    expansions = _EXPANSIONS[keep_stopwords]
    if len(expansions) >= _MEMO_WORDS:
        expansions.clear()
    return list(chain.from_iterable(map(expansions.__getitem__, _WORD.findall(text))))

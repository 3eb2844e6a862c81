"""Chunk ranking after fusion: what makes a top 10 of chunks useful, not only relevant.

Fused scores (chunk BM25, dense similarity and a share of the file's own evidence) say which
chunks match the query's words. Three things they miss, each a pure step here:

1. **Definitions.** A chunk that *defines* a queried symbol (its parsed ``symbol`` ends with the
   name) gains ``definition_boost`` x the best score, half as much when the symbol is only
   embedded in a prose query, 1.5x when the file is named after it, two thirds for a function
   or method (``Engine`` means the type before a method named ``Engine``). Definitions outside the
   candidates join when the name is rare (few definitions) or names their file.
2. **Paths.** For prose queries, a file whose stem or directory shares words with the query
   (``sessions.py`` for "how HTTP sessions manage state", prefixes count) gains up to
   ``path_boost`` x the best score, in proportion to the share of query words matched.
3. **Priors and diversity.** Tests (unless asked for), examples, compatibility shims, re-export
   modules and declaration stubs are down-weighted; then a greedy pass takes the best chunk, and
   every further chunk of an already chosen file counts ``saturation`` times less per chunk
   taken, so one long file cannot fill the top 10.

The signal set follows semble's published ranking (MIT), rebuilt on parsed symbols instead of
regular expressions over chunk text. Left out: learned weights, query expansion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath

from contextos.code.chunking.languages import PROSE_LANGUAGES
from contextos.retrieval.tokenize import STOPWORDS, split_identifier

__all__ = [
    "ChunkMeta",
    "RankKnobs",
    "boost_central_files",
    "boost_definitions",
    "boost_paths",
    "diversify",
    "path_prior",
]


@dataclass(frozen=True, slots=True)
class ChunkMeta:
    """What ranking reads about a chunk besides its score."""

    path: str
    start_line: int
    symbol: str | None
    kind: str
    is_test: bool
    language: str = ""


@dataclass(frozen=True, slots=True)
class RankKnobs:
    """Weights of the steps above, as multiples of the best fused score (priors as factors)."""

    depth: int = 100
    definition_boost: float = 3.0
    embedded_scale: float = 0.5
    named_file_bonus: float = 1.5
    callable_share: float = 0.67
    rare_definitions: int = 3
    graph: float = 0.0
    path_boost: float = 1.0
    path_min_share: float = 0.1
    saturation: float = 0.5
    test_prior: float = 0.3
    aside_prior: float = 0.3
    reexport_prior: float = 0.5
    stub_prior: float = 0.7
    prose_prior: float = 0.5


_STOP = STOPWORDS | {"does", "how", "what", "when", "where", "which", "who", "why"}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _stem_is(stem: str, name: str) -> bool:
    """``stem`` (lower-case file stem) names ``name`` (lower-case): exact, without ``_``/``-``,
    or plural."""
    flat = stem.replace("_", "").replace("-", "")
    return name in (stem, flat, stem.rstrip("s"), flat.rstrip("s"))


@lru_cache(maxsize=8192)
def _stem(path: str) -> str:
    return PurePosixPath(path).stem.lower()


def boost_central_files(
    scores: dict[int, float],
    path_of: Mapping[int, str],
    rank: Mapping[str, float],
    knobs: RankKnobs,
) -> None:
    """Raise (in place) chunks by ``graph`` x the best score x their file's share of the best
    PageRank among the candidates (``rank``: personalised by the candidates themselves)."""
    if not scores or not rank or knobs.graph == 0.0:
        return
    top = max((rank.get(path_of.get(c, ""), 0.0) for c in scores), default=0.0)
    if top <= 0.0:
        return
    unit = max(scores.values()) * knobs.graph / top
    for cid in scores:
        scores[cid] += unit * rank.get(path_of.get(cid, ""), 0.0)


def boost_definitions(
    scores: dict[int, float],
    defining: Mapping[int, ChunkMeta],
    names: Iterable[str],
    *,
    symbol_query: bool,
    knobs: RankKnobs,
) -> None:
    """Raise (in place) the chunks of ``defining`` (chunk id → meta of every chunk defining one
    of ``names``); non-candidates join when their name is rare or names their file."""
    if not scores or not defining:
        return
    unit = max(scores.values()) * knobs.definition_boost
    if not symbol_query:
        unit *= knobs.embedded_scale
    lowered = {n.lower() for n in names}
    per_name: dict[str, int] = {}
    for meta in defining.values():
        key = _last(meta.symbol)
        per_name[key] = per_name.get(key, 0) + 1
    for cid, meta in defining.items():
        named_file = any(_stem_is(_stem(meta.path), n) for n in lowered)
        boost = unit * (knobs.named_file_bonus if named_file else 1.0)
        if meta.kind in ("function", "method"):
            boost *= knobs.callable_share
        if cid in scores:
            scores[cid] += boost
        elif named_file or per_name[_last(meta.symbol)] <= knobs.rare_definitions:
            scores[cid] = boost


def _last(symbol: str | None) -> str:
    return (symbol or "").rsplit(".", 1)[-1].lower()


def boost_paths(
    scores: dict[int, float], meta: Mapping[int, ChunkMeta], query: str, knobs: RankKnobs
) -> None:
    """Raise (in place) chunks whose file stem or parent directory shares words with ``query``."""
    words = {w.lower() for w in _WORD.findall(query) if len(w) > 2} - _STOP
    if not scores or not words or knobs.path_boost == 0.0:
        return
    unit = max(scores.values()) * knobs.path_boost
    share_of: dict[str, float] = {}
    for cid in list(scores):
        m = meta.get(cid)
        if m is None:
            continue
        if m.path not in share_of:
            share_of[m.path] = _path_share(m.path, words)
        share = share_of[m.path]
        if share >= knobs.path_min_share:
            scores[cid] += unit * share


@lru_cache(maxsize=8192)
def _path_parts(path: str) -> frozenset[str]:
    p = PurePosixPath(path)
    parts = set(split_identifier(p.stem))
    if p.parent.name not in ("", ".", ".."):
        parts.update(split_identifier(p.parent.name))
    return frozenset(x for x in parts if x)


def _path_share(path: str, words: set[str]) -> float:
    """The share of ``words`` matching a part of ``path``'s stem or parent directory, a shorter
    word of at least three letters matching the start of a longer one."""
    parts = _path_parts(path)
    hits = sum(1 for word in words if any(_prefix_match(word, part) for part in parts))
    return hits / len(words)


def _prefix_match(a: str, b: str) -> bool:
    """``a`` and ``b`` are equal, or the shorter (three letters or more) starts the longer."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return short == long or (len(short) >= 3 and long.startswith(short))


_ASIDE = re.compile(
    r"(?:^|/)(?:compat|_compat|legacy|_?examples?|docs?_src|samples?|demos?|benchmarks?)(?:/|$)",
    re.IGNORECASE,
)
_REEXPORT = frozenset({"__init__.py", "package-info.java"})


def path_prior(meta: ChunkMeta, about_tests: bool, knobs: RankKnobs) -> float:
    """The factor a chunk's score is multiplied by for where its file lives."""
    factor = 1.0
    if meta.is_test and not about_tests:
        factor *= knobs.test_prior
    if _ASIDE.search(meta.path):
        factor *= knobs.aside_prior
    name = PurePosixPath(meta.path).name
    if name in _REEXPORT:
        factor *= knobs.reexport_prior
    if name.endswith(".d.ts"):
        factor *= knobs.stub_prior
    if meta.language in PROSE_LANGUAGES:
        factor *= knobs.prose_prior
    return factor


def diversify(
    scores: Mapping[int, float], meta: Mapping[int, ChunkMeta], k: int, saturation: float
) -> list[tuple[int, float]]:
    """The ``k`` best chunks when each further chunk of a file already taken counts
    ``saturation`` times less per chunk taken (greedy; exact because decay only lowers).
    Equal scores are ordered by path and line, so the answer does not depend on row ids."""

    def place(cid: int) -> tuple[str, int]:
        m = meta.get(cid)
        return (m.path, m.start_line) if m is not None else ("", cid)

    ranked = sorted(scores, key=lambda c: (-scores[c], place(c)))
    taken: dict[str, int] = {}
    chosen: list[tuple[float, int]] = []
    floor = float("-inf")
    for cid in ranked:
        score = scores[cid]
        if len(chosen) >= k and score <= floor:
            break
        path = place(cid)[0]
        n = taken.get(path, 0)
        chosen.append((score * saturation**n, cid))
        taken[path] = n + 1
        if len(chosen) >= k:
            floor = sorted(s for s, _ in chosen)[-k]
    chosen.sort(key=lambda t: (-t[0], place(t[1])))
    return [(cid, s) for s, cid in chosen[:k]]

"""Rank fusion: pure functions that merge several rankings into one.

Reciprocal-rank fusion (Cormack et al. 2009) with a weight per ranking: an item at 0-based rank
``r`` in ranking ``i`` earns ``w_i / (k + r + 1)``. It needs no score calibration between BM25
and cosine similarity, which is why it is the default. Left out: learned fusion.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

__all__ = ["rrf", "top_by_score"]

K = TypeVar("K", bound=Hashable)


def rrf(
    rankings: Mapping[str, Sequence[K]], weights: Mapping[str, float], k: float = 60.0
) -> dict[K, float]:
    """Fuse named rankings (best first) into ``{item: score}``; unknown names weigh 0."""
    scores: dict[K, float] = defaultdict(float)
    for name, ranking in rankings.items():
        weight = weights.get(name, 0.0)
        if weight == 0.0:
            continue
        for rank, item in enumerate(ranking):
            scores[item] += weight / (k + rank + 1)
    return dict(scores)


def top_by_score(scores: Mapping[K, float], n: int) -> list[K]:
    """The ``n`` best items, ties broken by insertion order for determinism."""
    return sorted(scores, key=lambda item: -scores[item])[:n]

"""Ranking metrics for the localization benchmark, as pure functions.

``Acc@k`` counts an instance when *all* its gold files are within the top ``k`` results (the
SWE-bench localization convention); ``MRR`` uses the rank of the *first* gold file. A miss (gold
not retrieved, or the system failed on the instance) stays in the denominator. Percentiles
interpolate linearly between order statistics, like ``numpy.percentile``'s default.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "KS",
    "acc_at_k",
    "aggregate",
    "all_gold_rank",
    "first_gold_rank",
    "mrr",
    "percentile",
    "summarise",
]

KS = (1, 3, 5, 10)


def all_gold_rank(ranked: Sequence[str], gold: Iterable[str]) -> int | None:
    """1-based rank at which every gold file has appeared, or None if one is missing."""
    position = {path: i for i, path in reversed(list(enumerate(ranked, start=1)))}
    ranks = [position.get(path) for path in set(gold)]
    if not ranks or any(r is None for r in ranks):
        return None
    return max(r for r in ranks if r is not None)


def first_gold_rank(ranked: Sequence[str], gold: Iterable[str]) -> int | None:
    """1-based rank of the first gold file in ``ranked``, or None if there is none."""
    wanted = set(gold)
    return next((i for i, path in enumerate(ranked, start=1) if path in wanted), None)


def acc_at_k(all_ranks: Sequence[int | None], k: int) -> float:
    """Percentage (0–100) of instances whose all-gold rank is at most ``k``; 0.0 when empty."""
    if not all_ranks:
        return 0.0
    return 100.0 * sum(1 for r in all_ranks if r is not None and r <= k) / len(all_ranks)


def mrr(first_ranks: Sequence[int | None]) -> float:
    """Mean reciprocal rank of the first gold file; a miss scores 0; 0.0 when empty."""
    if not first_ranks:
        return 0.0
    return sum(1.0 / r for r in first_ranks if r) / len(first_ranks)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) with linear interpolation; NaN for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be in [0, 100], got {q}")
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summarise(
    all_ranks: Sequence[int | None],
    first_ranks: Sequence[int | None],
    index_seconds: Sequence[float],
    query_ms: Sequence[float],
) -> dict[str, Any]:
    """The per-system figures of the report, rounded for reading."""
    out: dict[str, Any] = {f"acc@{k}": round(acc_at_k(all_ranks, k), 1) for k in KS}
    out["mrr"] = round(mrr(first_ranks), 4)
    out["index_s_total"] = round(sum(index_seconds), 2)
    p50, p95 = percentile(query_ms, 50), percentile(query_ms, 95)
    out["query_ms_p50"] = None if math.isnan(p50) else round(p50, 2)
    out["query_ms_p95"] = None if math.isnan(p95) else round(p95, 2)
    return out


def aggregate(rows: list[dict[str, Any]], systems: list[str]) -> dict[str, dict[str, Any]]:
    """Per-system summary of benchmark rows; a failed instance is a miss and adds no timings.

    Each row holds ``ranks``, ``first_ranks``, ``index_s``, ``query_ms`` and ``errors``, each a
    dict keyed by system name.
    """
    result: dict[str, dict[str, Any]] = {}
    for s in systems:
        fig = summarise(
            [r["ranks"].get(s) for r in rows],
            [r["first_ranks"].get(s) for r in rows],
            [r["index_s"][s] for r in rows if s in r.get("index_s", {})],
            [r["query_ms"][s] for r in rows if s in r.get("query_ms", {})],
        )
        fig["n"] = len(rows)
        fig["errors"] = sum(1 for r in rows if s in r.get("errors", {}))
        result[s] = fig
    return result

"""What a system produced on the repositories, and its figures: ``RepoRun`` and
``evaluate_system``.

Every system (contextos modes, semble, the BM25 baseline) fills one ``RepoRun`` per repository:
the index time (None when not measured), the top-10 chunks and latency of each query, or the error
that stopped it (its queries then score 0). ``evaluate_system`` turns them into the figures of the
result file. Left out: running anything.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.common.metrics import percentile
from benchmarks.search.metric import (
    Hit,
    K,
    grouped_repo_means,
    ndcg_at_k,
    parse_target,
    repo_mean,
    repo_path,
)

__all__ = ["RepoRun", "evaluate_system"]


@dataclass
class RepoRun:
    """One system on one repository."""

    index_s: float | None = None
    hits: dict[str, list[Hit]] = field(default_factory=dict)
    """qid → top-10 chunks, paths relative to the corpus root."""
    query_ms: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)


def _round(value: float, digits: int = 4) -> float | None:
    return None if math.isnan(value) else round(value, digits)


def evaluate_system(
    runs: Mapping[str, RepoRun],
    queries: Sequence[dict[str, Any]],
    repos: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """The figures of one system over ``repos`` (queries of other repositories are ignored).

    ``per_query`` maps qid → ``{ndcg@10, top10, query_ms}``; a repository without a run, or
    whose run failed, scores 0 on its queries. ``distinct_files_top10_mean`` is the plain mean
    over queries; latencies are pooled over all queries.
    """
    by_name = {r["name"]: r for r in repos}
    rows: list[tuple[dict[str, Any], float]] = []
    per_query: dict[str, dict[str, Any]] = {}
    distinct: list[int] = []
    for q in queries:
        repo = by_name.get(q["repo"])
        if repo is None:
            continue
        run = runs.get(q["repo"])
        top = (run.hits.get(q["qid"], []) if run else [])[:K]
        matched = [(repo_path(repo.get("benchmark_root"), p), s, e) for p, s, e in top]
        targets = [parse_target(t) for t in q["relevant"] + q["secondary"]]
        score = ndcg_at_k(matched, targets)
        rows.append((q, score))
        distinct.append(len({p for p, _, _ in top}))
        per_query[q["qid"]] = {
            "ndcg@10": round(score, 4),
            "top10": [list(h) for h in top],
            "query_ms": round(run.query_ms[q["qid"]], 3)
            if run and q["qid"] in run.query_ms
            else None,
        }
    latencies = [ms for r in runs.values() if r.error is None for ms in r.query_ms.values()]
    index_times = [r.index_s for n, r in runs.items() if n in by_name and r.index_s is not None]
    return {
        "ndcg@10": _round(repo_mean((q["repo"], s) for q, s in rows)),
        "ndcg@10_by_category": {
            g: _round(v)
            for g, v in grouped_repo_means((q["category"], q["repo"], s) for q, s in rows).items()
        },
        "ndcg@10_by_language": {
            g: _round(v)
            for g, v in grouped_repo_means((q["language"], q["repo"], s) for q, s in rows).items()
        },
        "ndcg@10_by_repo": {
            g: _round(v)
            for g, v in grouped_repo_means((q["repo"], q["repo"], s) for q, s in rows).items()
        },
        "index_s_median": round(statistics.median(index_times), 3) if index_times else None,
        "index_s_by_repo": {
            n: (round(r.index_s, 3) if r.index_s is not None else None)
            for n, r in runs.items()
            if n in by_name
        },
        "query_ms_p50": _round(percentile(latencies, 50), 3),
        "query_ms_p95": _round(percentile(latencies, 95), 3),
        "distinct_files_top10_mean": _round(statistics.mean(distinct), 3) if distinct else None,
        "n_queries": len(rows),
        "n_repos": len({q["repo"] for q, _ in rows}),
        "errors": {n: r.error for n, r in runs.items() if r.error},
        "notes": {n: r.notes for n, r in runs.items() if r.notes},
        "per_query": per_query,
    }

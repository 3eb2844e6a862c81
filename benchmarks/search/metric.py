"""semble's code-search metric: NDCG@10 over chunks, averaged per repository, then over them.

A system returns its top 10 chunks ``(path, start_line, end_line)`` (1-based, inclusive, not
deduplicated per file). The targets of a query are its ``relevant`` plus ``secondary`` entries,
all of gain 1; a target is a path or ``{path, start_line, end_line}``. A chunk hits a target
when the paths match and, if the target has lines, the line ranges overlap. Each target counts
once, at the first chunk that hits it (two targets hit first by the same chunk make one hit).
NDCG@10 = DCG / IDCG with DCG = Σ rel_i / log2(i + 2) over ranks i = 0..9 and IDCG the DCG of
min(10, number of targets) hits (semble's current ``benchmarks/metrics.py``; its older harness
used the number of targets the index holds instead, which depends on the system).

Paths match as in semble's ``benchmarks/data.py``: equal, or one a ``/``-suffix of the other. The
annotations name most targets from the repository root (flask: ``src/flask/app.py``) but some from
the benchmark root (xmonad: ``Core.hs``), so the harness matches a chunk by its repository-relative
path (``benchmark_root/path``), which the suffix rule reconciles with both.

Aggregation: the mean NDCG of each repository's queries, then the unweighted mean over
repositories; a breakdown (category, language) takes, per group, each repository's mean over its
queries in the group, then the mean over the repositories that have the group. Left out: graded
relevance, NDCG@5, anything that reads files.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Hit",
    "K",
    "Target",
    "grouped_repo_means",
    "hits_target",
    "ndcg_at_k",
    "parse_target",
    "path_matches",
    "repo_mean",
    "repo_path",
]

K = 10

Hit = tuple[str, int, int]
"""A returned chunk: path, first line, last line (1-based, inclusive)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A file, or a line range of one, that answers a query."""

    path: str
    start_line: int | None = None
    end_line: int | None = None


def parse_target(raw: str | Mapping[str, Any]) -> Target:
    """A target from its JSON form: a path, or ``{path, start_line, end_line}``."""
    if isinstance(raw, str):
        return Target(raw)
    start, end = raw.get("start_line"), raw.get("end_line")
    if start is None or end is None:
        return Target(str(raw["path"]))
    return Target(str(raw["path"]), int(start), int(end))


def repo_path(benchmark_root: str | None, path: str) -> str:
    """A corpus-relative path as a repository-relative one."""
    return f"{benchmark_root.strip('/')}/{path}" if benchmark_root else path


def path_matches(chunk_path: str, target_path: str) -> bool:
    """Equal paths, or one a ``/``-suffix of the other (semble's rule)."""
    a, b = chunk_path.replace("\\", "/"), target_path.replace("\\", "/")
    return a == b or a.endswith("/" + b) or b.endswith("/" + a)


def hits_target(hit: Hit, target: Target) -> bool:
    """True when the chunk's path matches and, if the target has lines, the ranges overlap."""
    path, start, end = hit
    if not path_matches(path, target.path):
        return False
    if target.start_line is None or target.end_line is None:
        return True
    return not (end < target.start_line or start > target.end_line)


def _dcg(relevances: Iterable[int]) -> float:
    return sum(rel / math.log2(i + 2) for i, rel in enumerate(relevances))


def ndcg_at_k(ranked: Sequence[Hit], targets: Sequence[Target], k: int = K) -> float:
    """NDCG@k of ``ranked`` (its first ``k`` entries) against binary ``targets``; 0.0 for none."""
    if not targets:
        return 0.0
    top = list(ranked[:k])
    relevances = [0] * k
    for target in targets:
        first = next((i for i, hit in enumerate(top) if hits_target(hit, target)), None)
        if first is not None:
            relevances[first] = 1
    return _dcg(relevances) / _dcg([1] * min(k, len(targets)))


def repo_mean(rows: Iterable[tuple[str, float]]) -> float:
    """Mean over repositories of each repository's mean; ``rows`` are (repo, value); NaN if
    empty."""
    per_repo: dict[str, list[float]] = defaultdict(list)
    for repo, value in rows:
        per_repo[repo].append(value)
    if not per_repo:
        return math.nan
    return sum(sum(v) / len(v) for v in per_repo.values()) / len(per_repo)


def grouped_repo_means(rows: Iterable[tuple[str, str, float]]) -> dict[str, float]:
    """``repo_mean`` within each group; ``rows`` are (group, repo, value); groups sorted."""
    groups: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for group, repo, value in rows:
        groups[group].append((repo, value))
    return {group: repo_mean(groups[group]) for group in sorted(groups)}

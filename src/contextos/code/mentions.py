"""Files a query names outright: by path, by module, by a traceback frame, or by a symbol.

A path or module match is near-certain evidence; a symbol match is weighted by how rare the
symbol is (``log(n_files / n_defining_files)``), so ``__init__`` counts for little and
``_eval_power_base`` for a lot. Identifiers written like code (``snake_case``, ``camelCase``,
dotted) weigh more than plain words that happen to name a function.
"""

from __future__ import annotations

import math
from collections import defaultdict

from contextos.code.query import ParsedQuery, code_like
from contextos.store.db import Connection

__all__ = ["mention_scores"]

PATH_SCORE = 20.0


def _path_matches(mentioned: str, by_name: dict[str, list[str]]) -> list[str]:
    """Indexed files that are, or end with, the mentioned path (or that it ends with)."""
    mentioned = mentioned.strip("/")
    return [
        p
        for p in by_name.get(mentioned.rpartition("/")[2], ())
        if p == mentioned or mentioned.endswith("/" + p) or p.endswith("/" + mentioned)
    ]


def _module_paths(dotted: str, path_set: set[str], by_name: dict[str, list[str]]) -> list[str]:
    """The file a dotted name most likely lives in: the longest prefix that is a module."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        base = "/".join(parts[:end])
        for candidate in (base + ".py", base + "/__init__.py"):
            if candidate in path_set:
                return [candidate]
        if end >= 2:
            suffix = [
                p for p in by_name.get(parts[end - 1] + ".py", ()) if p.endswith("/" + base + ".py")
            ]
            if suffix:
                return suffix
    return []


def mention_scores(
    conn: Connection, parsed: ParsedQuery, paths: list[str], plain_word_weight: float
) -> dict[str, float]:
    """``{path: score}`` for files the query mentions; empty if it mentions none."""
    scores: dict[str, float] = defaultdict(float)
    path_set = set(paths)
    by_name: dict[str, list[str]] = defaultdict(list)
    for path in paths:
        by_name[path.rpartition("/")[2]].append(path)
    for mentioned in parsed.paths:
        for p in _path_matches(mentioned, by_name):
            scores[p] += PATH_SCORE
    for dotted in parsed.modules:
        for p in _module_paths(dotted, path_set, by_name):
            scores[p] += PATH_SCORE / 2
    if not parsed.identifiers:
        return dict(scores)
    n_files = max(len(paths), 1)
    defining: dict[str, set[str]] = defaultdict(set)
    idents = parsed.identifiers[:500]
    for start in range(0, len(idents), 200):
        part = idents[start : start + 200]
        marks = ",".join("?" * len(part))
        for name, path in conn.execute(
            f"SELECT name, path FROM symbols WHERE name IN ({marks})", part
        ):
            defining[name].add(path)
    for name, files in sorted(defining.items()):  # one order of float sums on every backend
        idf = math.log(1 + n_files / len(files))
        weight = 1.0 if code_like(name) else plain_word_weight
        for p in sorted(files):  # a fixed order: ties rank alike in every process
            scores[p] += weight * idf
    return dict(scores)

"""An Aider-style repository map, written from its public description, as a packing baseline.

1. *Tags.* Each file's definitions (qualified symbol, kind, one-line signature) are the chunks
   contextos's chunker (tree-sitter) produced for it, read from the workspace index; its
   references are ``contextos.code.symbols.referenced_identifiers`` of its text.
2. *Graph.* A file that references an identifier defined in a file (another one, or itself: a
   module using its own helpers, seen when a name occurs more often than it is defined there)
   gets an edge to it, weighted by the identifier's rarity,
   ``1 / (number of files defining it)``, ten times that if the query mentions the identifier.
   Identifiers defined in more than ``MAX_DEFINERS`` files (``__init__``, ``eval``...) are left
   out: their weight would be tiny and their edges many.
3. *Rank.* Personalised PageRank (damping 0.85, power iteration). The personalisation puts mass
   on files whose path or module the query names, files whose stem or directory is a query word,
   and files defining identifiers the query mentions (each by rarity); uniform if none match.
4. *Definitions.* Each file's rank flows along its out-edges to the (file, identifier) pairs it
   references; a definition the query mentions also gets its own file's rank, so a mentioned
   method nobody calls directly (dispatch by name) can be listed. Files never reached come last,
   as bare paths, by rank.
5. *Map.* The first N entries, grouped by file (files by rank, definitions in line order, each
   method under its class's signature line), as ``path:`` then ``│``-prefixed signature lines.
   N is the largest number whose map, wrapped as a quoted data block, fits the budget (binary
   search; the text grows with N).

A gold file counts as packed when it is listed; a gold symbol when its own signature line is.
Left out: Aider's caching, its chat-file handling, and its tree-context rendering of code lines.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

__all__ = ["MAX_DEFINERS", "Definition", "RepoMap", "build_repo_map"]

MAX_DEFINERS = 25
_DAMPING = 0.85
_DEF_KINDS = ("function", "method", "class", "type")
_WORD = re.compile(r"[A-Za-z_$][\w$]*")


@dataclass(frozen=True, slots=True)
class Definition:
    symbol: str
    line: int
    signature: str

    @property
    def name(self) -> str:
        return self.symbol.rsplit(".", 1)[-1]


@dataclass(slots=True)
class RepoMap:
    """Ranked entries of one repository for one query; ``render`` cuts them to a budget."""

    defs: dict[str, list[Definition]]
    entries: list[tuple[str, str | None]]
    rank: dict[str, float] = field(default_factory=dict)

    def render(self, n: int) -> tuple[str, set[str], set[tuple[str, str]]]:
        """The map of the first ``n`` entries, the files listed, the (file, symbol)s listed."""
        chosen: dict[str, set[str]] = {}
        for path, name in self.entries[:n]:
            chosen.setdefault(path, set())
            if name is not None:
                chosen[path].add(name)
        out: list[str] = []
        listed: set[tuple[str, str]] = set()
        for path, names in chosen.items():
            out.append(f"{path}:")
            shown: set[str] = set()
            for d in self.defs.get(path, []):
                if d.name not in names:
                    continue
                parts = d.symbol.split(".")
                for depth in range(1, len(parts) + 1):
                    scope = ".".join(parts[:depth])
                    if scope not in shown:
                        sig = self._signature(path, scope)
                        if sig is not None:
                            out.append("│" + "    " * (depth - 1) + sig)
                        shown.add(scope)
                listed.add((path, d.symbol))
        return "\n".join(out), set(chosen), listed

    def _signature(self, path: str, symbol: str) -> str | None:
        return next((d.signature for d in self.defs.get(path, []) if d.symbol == symbol), None)

    def fit(
        self, budget: int, cost: Callable[[str], int]
    ) -> tuple[str, int, set[str], set[tuple[str, str]]]:
        """The largest prefix of entries whose map costs ≤ ``budget``: text, cost, listings."""
        lo, hi = 0, min(len(self.entries), budget)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if cost(self.render(mid)[0]) <= budget:
                lo = mid
            else:
                hi = mid - 1
        text, files, listed = self.render(lo)
        return text, (cost(text) if lo else 0), files, listed


def load_definitions(conn: sqlite3.Connection, paths: set[str]) -> dict[str, list[Definition]]:
    """Definitions per file from the index's chunks (one per symbol, in line order)."""
    marks = ",".join("?" * len(_DEF_KINDS))
    rows = conn.execute(
        "SELECT path, symbol, MIN(start_line), context FROM chunks"
        f" WHERE symbol IS NOT NULL AND kind IN ({marks}) GROUP BY path, symbol"
        " ORDER BY path, MIN(start_line)",
        _DEF_KINDS,
    )
    out: dict[str, list[Definition]] = defaultdict(list)
    for path, symbol, line, context in rows:
        if path in paths:
            out[path].append(Definition(symbol, line, context.rsplit("\n", 1)[-1]))
    return dict(out)


def _tail(path: str, named: str) -> bool:
    """``path`` and a path the query names agree on their last components (either is longer:
    the query may name ``core/basic.py`` or ``/usr/lib/.../sympy/core/basic.py``)."""
    return path == named or path.endswith("/" + named) or named.endswith("/" + path)


def _query_files(query: str, paths: Sequence[str]) -> dict[str, float]:
    """Personalisation from the paths, modules and words of the query."""
    from contextos.code.query import parse_query

    parsed = parse_query(query)
    words = {w.lower() for w in parsed.identifiers}
    named = [p.lstrip("/") for p in parsed.paths] + [m.replace(".", "/") for m in parsed.modules]
    out: dict[str, float] = defaultdict(float)
    by_part: dict[str, list[str]] = defaultdict(list)
    for path in paths:
        pure = PurePosixPath(path)
        stem = str(pure.with_suffix(""))
        if any(_tail(stem, n) or _tail(path, n) for n in named if "/" in n or "." in n):
            out[path] += 1.0
        for part in {pure.stem, *pure.parts[:-1]}:
            if part.lower() in words:
                by_part[part.lower()].append(path)
    for files in by_part.values():
        for path in files:
            out[path] += 1.0 / len(files)
    return out


def build_repo_map(
    query: str, root: Path, conn: sqlite3.Connection, paths: Sequence[str]
) -> RepoMap:
    """Rank the definitions of ``paths`` (files of ``root`` in the index ``conn``) for ``query``."""
    from contextos.code.chunking.languages import language_for
    from contextos.code.query import parse_query
    from contextos.code.symbols import referenced_identifiers

    defs = load_definitions(conn, set(paths))
    definers: dict[str, set[str]] = defaultdict(set)
    for path, items in defs.items():
        for d in items:
            definers[d.name].add(path)
    usable = {name for name, files in definers.items() if len(files) <= MAX_DEFINERS}
    mentioned = set(parse_query(query).identifiers) & set(definers)
    index = {p: i for i, p in enumerate(paths)}
    edges: dict[tuple[int, int], float] = defaultdict(float)
    flows: list[tuple[int, str, str, float]] = []  # (referencer, definer, name, weight)
    for path in paths:
        text = (root / path).read_text(encoding="utf-8", errors="replace")
        refs = referenced_identifiers(text, language_for(path) or "text") & usable
        own = Counter(d.name for d in defs.get(path, []))
        words = Counter(_WORD.findall(text)) if own else Counter()
        for name in refs:
            weight = (10.0 if name in mentioned else 1.0) / len(definers[name])
            for target in definers[name]:
                if target == path and words[name] <= own[name]:
                    continue  # only its own definition names it: no use, no self-reference
                edges[index[path], index[target]] += weight
                flows.append((index[path], target, name, weight))
    person = _query_files(query, paths)
    for name in mentioned:
        for path in definers[name]:
            person[path] += 1.0 / len(definers[name])
    rank = _pagerank(len(paths), edges, [person.get(p, 0.0) for p in paths])
    return RepoMap(
        defs, _entries(paths, defs, rank, flows, mentioned), dict(zip(paths, rank, strict=True))
    )


def _entries(
    paths: Sequence[str],
    defs: dict[str, list[Definition]],
    rank: Sequence[float],
    flows: list[tuple[int, str, str, float]],
    mentioned: set[str],
) -> list[tuple[str, str | None]]:
    out_weight = np.zeros(len(paths))
    for src, _, _, w in flows:
        out_weight[src] += w
    score: dict[tuple[str, str], float] = defaultdict(float)
    for src, target, name, w in flows:
        score[target, name] += rank[src] * w / out_weight[src]
    for i, path in enumerate(paths):
        for d in defs.get(path, []):
            if d.name in mentioned:
                score[path, d.name] += rank[i]
    ranked: list[tuple[str, str | None]] = [
        key for key, _ in sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    seen = {path for path, _ in ranked}
    order = sorted(range(len(paths)), key=lambda i: (-rank[i], paths[i]))
    return ranked + [(paths[i], None) for i in order if paths[i] not in seen]


def _pagerank(
    n: int, edges: dict[tuple[int, int], float], person: Sequence[float], iters: int = 100
) -> list[float]:
    """Personalised PageRank; dangling mass and teleports follow the personalisation."""
    from scipy.sparse import csr_matrix

    if n == 0:
        return []
    p = np.asarray(person, dtype=float)
    p = p / p.sum() if p.sum() > 0 else np.full(n, 1.0 / n)
    if not edges:
        return p.tolist()
    src, dst = np.array(list(edges)).T
    weight = np.fromiter(edges.values(), dtype=float)
    out = np.bincount(src, weights=weight, minlength=n)
    matrix = csr_matrix((weight / out[src], (dst, src)), shape=(n, n))
    dangling = out == 0
    r = p.copy()
    for _ in range(iters):
        new = _DAMPING * (matrix @ r + r[dangling].sum() * p) + (1 - _DAMPING) * p
        done = float(np.abs(new - r).sum()) < 1e-10
        r = new
        if done:
            break
    return r.tolist()

"""The definition/reference graph of a workspace index, and personalised PageRank over it.

Nodes are the indexed files. File A gets an edge to file B (A ≠ B) when A's code uses an
identifier B defines (a ``symbols.name``), weighted as Aider weighs it: the square root of the
number of A's chunks using the name, over the number of files defining it; the weights of all
the names A shares with B add up. A name A defines itself is taken to mean its own definition
(so files implementing the same method do not link to each other through their ``def`` lines).
Names defined in more than ``MAX_DEFINERS`` files (``get``, ``__init__``) or shorter than
``MIN_NAME`` characters link too widely to mean anything and are skipped, as are prose files
(``PROSE_LANGUAGES``), whose words are not references. The edges are numpy arrays sorted by
source, so a PageRank iteration is a few vector operations.

Left out: scoping and imports (a local variable named like a function elsewhere links to it,
see ``contextos.code.symbols``), self-edges, query-dependent edge weights (callers personalise
through the seeds), and persisting the graph: building it is one scan of the chunk texts,
cached per index generation by ``Snapshots.graph``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from itertools import chain

import numpy as np
import numpy.typing as npt

from contextos.code.chunking.languages import PROSE_LANGUAGES
from contextos.code.symbols import referenced_identifiers
from contextos.store.db import Connection

__all__ = [
    "MAX_DEFINERS",
    "MIN_NAME",
    "RefGraph",
    "build_graph",
    "personalized_pagerank",
]

MAX_DEFINERS = 20
"""A name defined in more files than this creates no edges."""
MIN_NAME = 3
"""A name shorter than this creates no edges."""


class RefGraph:
    """Weighted file → file edges, as parallel arrays sorted by source (COO, one row per pair).

    ``paths[i]`` is node ``i``; ``sources[k] → targets[k]`` weighs ``weights[k]``.
    """

    __slots__ = ("_dangling", "_share", "index", "paths", "sources", "targets", "weights")

    def __init__(
        self,
        paths: list[str],
        sources: npt.NDArray[np.int64],
        targets: npt.NDArray[np.int64],
        weights: npt.NDArray[np.float64],
    ) -> None:
        self.paths = paths
        self.index = {path: i for i, path in enumerate(paths)}
        self.sources, self.targets, self.weights = sources, targets, weights
        out = np.bincount(sources, weights=weights, minlength=len(paths))
        self._share = weights / out[sources]  # the part of its rank a source sends along an edge
        self._dangling = np.flatnonzero(out == 0)

    def __len__(self) -> int:
        return len(self.paths)

    def out_edges(self, path: str) -> dict[str, float]:
        """The files ``path`` references, with the weights of its edges to them."""
        i = self.index[path]
        lo, hi = np.searchsorted(self.sources, [i, i + 1])
        edges = zip(self.targets[lo:hi].tolist(), self.weights[lo:hi].tolist(), strict=True)
        return {self.paths[t]: w for t, w in edges}


def build_graph(conn: Connection) -> RefGraph:
    """The reference graph of the files indexed in ``conn`` (a workspace database)."""
    paths = [path for (path,) in conn.execute("SELECT path FROM files ORDER BY path")]
    node = {path: i for i, path in enumerate(paths)}
    prose = ",".join("?" * len(PROSE_LANGUAGES))
    definers: dict[str, list[int]] = defaultdict(list)
    for name, path in conn.execute(
        "SELECT DISTINCT symbols.name, symbols.path FROM symbols JOIN files USING (path)"
        f" WHERE length(symbols.name) >= ? AND files.language NOT IN ({prose})",
        (MIN_NAME, *PROSE_LANGUAGES),
    ):
        if path in node:  # an indexer may have added it since ``paths`` was read
            definers[name].append(node[path])
    usable = {name: files for name, files in definers.items() if len(files) <= MAX_DEFINERS}
    uses: dict[int, Counter[str]] = defaultdict(Counter)
    for path, language, text in conn.execute(
        f"SELECT path, language, text FROM chunks WHERE language NOT IN ({prose})",
        tuple(PROSE_LANGUAGES),
    ):
        if path in node:
            uses[node[path]].update(referenced_identifiers(text, language) & usable.keys())
    sources, targets, weights = _edges(uses, usable)
    n = max(len(paths), 1)
    pairs, slot = np.unique(sources * n + targets, return_inverse=True)
    summed = np.bincount(slot, weights=weights, minlength=len(pairs)).astype(np.float64)
    return RefGraph(paths, pairs // n, pairs % n, summed)


def _edges(
    uses: Mapping[int, Counter[str]], definers: Mapping[str, list[int]]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Every (source, target, weight) of one name a source uses and does not define itself."""
    names = {name: k for k, name in enumerate(definers)}
    n_definers = np.array([len(files) for files in definers.values()], np.int64)
    first = np.cumsum(n_definers) - n_definers
    flat = np.fromiter(chain.from_iterable(definers.values()), np.int64, int(n_definers.sum()))
    user: list[int] = []
    used: list[int] = []
    count: list[int] = []
    for source, counts in uses.items():
        for name, n in counts.items():
            if source not in definers[name]:
                user.append(source)
                used.append(names[name])
                count.append(n)
    name_ids = np.asarray(used, np.int64)
    fan = n_definers[name_ids]
    offset = np.arange(fan.sum()) - np.repeat(np.cumsum(fan) - fan, fan)
    sources = np.repeat(np.asarray(user, np.int64), fan)
    targets = flat[np.repeat(first[name_ids], fan) + offset]
    weights = np.repeat(np.sqrt(np.asarray(count, np.float64)) / fan, fan)
    return sources, targets, weights


def personalized_pagerank(
    graph: RefGraph,
    seeds: Mapping[str, float],
    *,
    damping: float = 0.85,
    iterations: int = 30,
    tol: float = 1e-6,
) -> dict[str, float]:
    """PageRank of every file of ``graph``, teleporting to ``seeds`` (path → weight).

    The seed weights are normalised to a distribution; paths not in the graph and weights ≤ 0
    are ignored, and with no seed left the teleport is uniform (plain PageRank). A file without
    out-edges gives its rank to the seeds too. Power iteration stops after ``iterations`` or
    once an iteration moves less than ``tol`` of rank (L1). The scores sum to 1.
    """
    n = len(graph)
    if n == 0:
        return {}
    teleport = np.zeros(n)
    for path, w in seeds.items():
        i = graph.index.get(path)
        if i is not None and w > 0:
            teleport[i] += w
    total = teleport.sum()
    teleport = teleport / total if total > 0 else np.full(n, 1.0 / n)
    rank = teleport.copy()
    sources, targets, share = graph.sources, graph.targets, graph._share
    for _ in range(iterations):
        spread = np.bincount(targets, weights=share * rank[sources], minlength=n)
        spread += rank[graph._dangling].sum() * teleport
        new = damping * spread + (1 - damping) * teleport
        moved = float(np.abs(new - rank).sum())
        rank = new
        if moved < tol:
            break
    rank /= rank.sum()
    return dict(zip(graph.paths, rank.tolist(), strict=True))

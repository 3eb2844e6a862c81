"""semble (MinishLab/semble 0.7.0, MIT) on the search benchmark, called the way its authors do.

``SembleIndex.from_path(corpus, model_path=...)`` indexes the corpus (code files only, semble's
default), then ``index.search(query, top_k=10)`` is ``semble-hybrid`` (its RRF of BM25 and the
static model, auto alpha, its reranking) and ``index.search(query, top_k=10, alpha=0.0)`` is
``semble-bm25`` (the same pipeline fed BM25 only: the ``semble-bm25`` mode of its ablations).
Its default model lives on the Hugging Face hub, unreachable here, so ``model_path`` is the
static model contextos uses (``bench_model_dir``): both engines embed with the same model.

semble is not a dependency of contextos: it is installed apart
(``pip install --target SITE semble==0.7.0``) and ``SITE`` is appended to ``sys.path``, so the
versions of the packages contextos pins win. Its caches and search statistics go to
``WORK/semble-cache`` (``SEMBLE_CACHE_LOCATION``). Index time is ``from_path`` with the model
already loaded; one warm-up query per repository precedes the timed ones.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.search.data import DEFAULT_MIRRORS, checkout, corpus_dir
from benchmarks.search.evaluate import RepoRun
from benchmarks.search.metric import K

__all__ = ["DEFAULT_SITE", "MODES", "SembleUnavailable", "import_semble", "semble_runs"]

DEFAULT_SITE = Path("/work/bench-sites/semble")
MODES: dict[str, float | None] = {"semble-hybrid": None, "semble-bm25": 0.0}
"""System name → the ``alpha`` passed to ``SembleIndex.search`` (None: semble's auto)."""


class SembleUnavailable(RuntimeError):
    """semble cannot be imported; the message says why."""


def import_semble(site: Path = DEFAULT_SITE) -> Any:
    """The ``semble`` module, with ``site`` appended to ``sys.path`` if it exists."""
    if site.is_dir() and str(site) not in sys.path:
        sys.path.append(str(site))
    try:
        return importlib.import_module("semble")
    except ImportError as exc:
        raise SembleUnavailable(
            f"cannot import semble ({exc}); install it with "
            f"`pip install --target {site} semble==0.7.0`"
        ) from exc


def semble_runs(
    repos: Sequence[dict[str, Any]],
    queries: Sequence[dict[str, Any]],
    work: Path,
    systems: Sequence[str],
    model_dir: Path,
    *,
    mirrors: Path = DEFAULT_MIRRORS,
    site: Path = DEFAULT_SITE,
    log: Callable[[str], None],
) -> dict[str, dict[str, RepoRun]]:
    """Index each repository once with semble and answer its queries as every system."""
    os.environ["SEMBLE_CACHE_LOCATION"] = str((work / "semble-cache").resolve())
    semble = import_semble(site)
    dense = importlib.import_module("semble.index.dense")
    dense.load_model(str(model_dir))  # loaded once, outside the index timing
    out: dict[str, dict[str, RepoRun]] = {s: {} for s in systems}
    for i, repo in enumerate(repos, 1):
        name = repo["name"]
        mine = [q for q in queries if q["repo"] == name]
        start = time.perf_counter()
        try:
            tree, _ = checkout(repo, work, mirrors)
            t0 = time.perf_counter()
            index = semble.SembleIndex.from_path(corpus_dir(tree, repo), model_path=str(model_dir))
            index_s = time.perf_counter() - t0
        except Exception as exc:  # a benchmark records the failure and goes on
            for s in systems:
                out[s][name] = RepoRun(error=f"{type(exc).__name__}: {exc}")
            log(f"[semble {i}/{len(repos)}] {name}: FAILED {exc}")
            continue
        index.search("warm up the search path", top_k=K)
        notes = {"chunks": len(index.chunks), "files": index.stats.indexed_files}
        for s in systems:
            run = out[s][name] = RepoRun(index_s=index_s, notes=notes)
            for q in mine:
                t0 = time.perf_counter()
                results = index.search(q["query"], top_k=K, alpha=MODES[s])
                run.query_ms[q["qid"]] = (time.perf_counter() - t0) * 1000
                run.hits[q["qid"]] = [
                    (r.chunk.file_path, r.chunk.start_line, r.chunk.end_line) for r in results
                ]
        log(
            f"[semble {i}/{len(repos)}] {name}: {len(index.chunks)} chunks, index {index_s:.1f}s, "
            f"{len(mine)} queries x {len(systems)}, {time.perf_counter() - start:.1f}s"
        )
    return out

"""contextos on the search benchmark: ``Workspace.search(query, k=10, mode=...)`` over each corpus.

Indexes are kept in ``WORK/ws/<repo>.db`` and built only when missing (a ``<repo>.json`` beside
the database records that the build finished, with its time, counts and ``index_code``: a digest
of the indexing code, ``contextos/code/chunking``, ``indexer.py``, ``schema.py`` and ``walk.py``),
so ranking experiments re-rank without re-indexing; an index built by other indexing code is
rebuilt. ``CONTEXTOS_HOME`` is ``WORK/home`` (``use_bench_home``); its
``models/`` holds the static embedding model, built there the first time (minutes).

Index time is the wall time of ``Workspace.index()`` on an empty database, with the embedder
already resolved (loading or building the model is left out, as in ``benchmarks.localize``).
When an index is reused it is re-measured by indexing the same corpus into a throw-away
database under a throw-away home whose ``models/`` links to the bench model, so the embedding
cache is cold; ``index_timing=False`` skips that and reports None. Each repository gets one
warm-up query before queries are timed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.common.instances import remove_db
from benchmarks.common.results import source_digest
from benchmarks.search.data import DEFAULT_MIRRORS, checkout, corpus_dir
from benchmarks.search.evaluate import RepoRun, evaluate_system
from benchmarks.search.metric import K

if TYPE_CHECKING:
    from contextos.code.search import SearchConfig
    from contextos.types import SearchMode

__all__ = [
    "MODES",
    "bench_model_dir",
    "contextos_runs",
    "index_code_digest",
    "run_contextos",
    "use_bench_home",
]

MODES: dict[str, SearchMode] = {
    "contextos-hybrid": "hybrid",
    "contextos-lexical": "lexical",
    "contextos-dense": "dense",
}
WARMUP_QUERY = "warm up the search path"

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def use_bench_home(work: Path, home: Path | None = None) -> Path:
    """Point ``CONTEXTOS_HOME`` at ``home`` (default ``work/home``), offline; return it."""
    home = (home or work / "home").resolve()
    os.environ["CONTEXTOS_HOME"] = str(home)
    os.environ.setdefault("CONTEXTOS_OFFLINE", "1")
    return home


def bench_model_dir() -> Path:
    """The model2vec directory contextos uses in the current home, built first if needed."""
    from contextos.embed.resolve import HUB_MODEL, LOCAL_MODEL, open_embedder
    from contextos.embed.static import is_model2vec_dir
    from contextos.home import models_dir
    from contextos.settings import load_settings

    for name in (HUB_MODEL.replace("/", "--"), LOCAL_MODEL):
        if is_model2vec_dir(models_dir() / name):
            return models_dir() / name
    embedder, warnings = open_embedder(load_settings(), build="wait")
    if embedder is None or not is_model2vec_dir(models_dir() / LOCAL_MODEL):
        raise RuntimeError(f"no static embedding model could be built: {warnings}")
    return models_dir() / LOCAL_MODEL


@contextlib.contextmanager
def _scratch_home(work: Path) -> Iterator[Path]:
    """A throw-away ``CONTEXTOS_HOME`` sharing the bench home's models, cache cold."""
    models = Path(os.environ["CONTEXTOS_HOME"]) / "models"
    old = os.environ["CONTEXTOS_HOME"]
    (work / "tmp").mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="index-timing-", dir=work / "tmp"))
    (scratch / "home").mkdir()
    (scratch / "home" / "models").symlink_to(models, target_is_directory=True)
    os.environ["CONTEXTOS_HOME"] = str(scratch / "home")
    try:
        yield scratch
    finally:
        os.environ["CONTEXTOS_HOME"] = old
        shutil.rmtree(scratch, ignore_errors=True)


def index_code_digest() -> str | None:
    """Digest of the code that decides what an index holds (chunking, indexer, schema, walk)."""
    import contextos

    pkg = Path(contextos.__file__).parent
    files = sorted((pkg / "code" / "chunking").glob("*.py"))
    files += [pkg / "code" / "indexer.py", pkg / "code" / "schema.py", pkg / "walk.py"]
    return source_digest(files)


def _index(corpus: Path, db: Path) -> tuple[float, dict[str, Any]]:
    """Index ``corpus`` into ``db``; the seconds ``index()`` took and what it did."""
    from contextos.workspace import Workspace

    with Workspace(corpus, db_path=db) as ws:
        if ws.embedder() is None:
            raise RuntimeError(f"no embedding model: {ws.warnings}")
        start = time.perf_counter()
        summary = ws.index()
        seconds = time.perf_counter() - start
    facts = {
        "files": summary.files_seen,
        "chunks": summary.chunks_total,
        "embedder": summary.embedder,
        "index_s": round(seconds, 3),
        "index_code": index_code_digest(),
    }
    return seconds, facts


def _ensure_index(
    repo: dict[str, Any], work: Path, mirrors: Path, index_timing: bool
) -> tuple[Path, Path, float | None, dict[str, Any]]:
    """The corpus and database of ``repo``, indexed now or reused, and its index time."""
    tree, extracted = checkout(repo, work, mirrors)
    corpus = corpus_dir(tree, repo)
    db = work / "ws" / f"{repo['name']}.db"
    marker = db.with_suffix(".json")
    facts = json.loads(marker.read_text(encoding="utf-8")) if marker.is_file() else {}
    if extracted or facts.get("index_code") != index_code_digest():
        marker.unlink(missing_ok=True)
        remove_db(db)
        db.parent.mkdir(parents=True, exist_ok=True)
        seconds, facts = _index(corpus, db)
        marker.write_text(json.dumps(facts) + "\n", encoding="utf-8")
        return corpus, db, seconds, {**facts, "index_reused": False}
    if not index_timing:
        return corpus, db, None, {**facts, "index_reused": True}
    with _scratch_home(work) as scratch:
        seconds, fresh = _index(corpus, scratch / "timing.db")
    return corpus, db, seconds, {**facts, "index_reused": True, "remeasured": fresh}


def contextos_runs(
    repos: Sequence[dict[str, Any]],
    queries: Sequence[dict[str, Any]],
    work: Path,
    modes: Sequence[SearchMode],
    config: SearchConfig | None = None,
    *,
    mirrors: Path = DEFAULT_MIRRORS,
    home: Path | None = None,
    index_timing: bool = True,
    log: Log = _stderr,
) -> dict[SearchMode, dict[str, RepoRun]]:
    """Index (or reuse) each repository once and answer its queries in every mode.
    ``CONTEXTOS_HOME`` is set to ``home`` (default ``work/home``)."""
    from contextos.workspace import Workspace

    use_bench_home(work, home)
    out: dict[SearchMode, dict[str, RepoRun]] = {m: {} for m in modes}
    for i, repo in enumerate(repos, 1):
        name = repo["name"]
        mine = [q for q in queries if q["repo"] == name]
        start = time.perf_counter()
        try:
            corpus, db, index_s, facts = _ensure_index(repo, work, mirrors, index_timing)
        except Exception as exc:  # a benchmark records the failure and goes on
            for mode in modes:
                out[mode][name] = RepoRun(error=f"{type(exc).__name__}: {exc}")
            log(f"[contextos {i}/{len(repos)}] {name}: FAILED {exc}")
            continue
        with Workspace(corpus, db_path=db) as ws:
            ws.embedder()
            ws.search(WARMUP_QUERY, k=K, mode="hybrid", config=config)
            for mode in modes:
                run = out[mode][name] = RepoRun(index_s=index_s, notes=facts)
                for q in mine:
                    t0 = time.perf_counter()
                    hits = ws.search(q["query"], k=K, mode=mode, config=config)
                    run.query_ms[q["qid"]] = (time.perf_counter() - t0) * 1000
                    run.hits[q["qid"]] = [(h.path, h.start_line, h.end_line) for h in hits]
        shown = "reused" if index_s is None else f"{index_s:.1f}s"
        log(
            f"[contextos {i}/{len(repos)}] {name}: {facts.get('chunks')} chunks, index {shown}, "
            f"{len(mine)} queries x {len(modes)} modes, {time.perf_counter() - start:.1f}s"
        )
    return out


def run_contextos(
    repos: Sequence[dict[str, Any]],
    queries: Sequence[dict[str, Any]],
    work: Path,
    mode: SearchMode = "hybrid",
    config: SearchConfig | None = None,
    *,
    mirrors: Path = DEFAULT_MIRRORS,
    home: Path | None = None,
    index_timing: bool = False,
    log: Log = _stderr,
) -> dict[str, Any]:
    """The figures of contextos in ``mode`` with ``config`` (see ``evaluate_system``), reusing
    the indexes in ``work``. Index time is not re-measured unless ``index_timing``."""
    runs = contextos_runs(
        repos,
        queries,
        work,
        [mode],
        config,
        mirrors=mirrors,
        home=home,
        index_timing=index_timing,
        log=log,
    )
    return evaluate_system(runs[mode], queries, repos)

"""Which vector store: numpy brute force, sqlite-vec (vec0 KNN) or usearch (HNSW)?

Data: ``--n`` unit vectors of ``--dim`` float32 with graded similarity, like real embeddings
rather than uniform noise: 100 topics, 100 sub-topics each, points scattered around sub-topics.
``--queries`` held-out queries come from the same distribution. Every backend runs in two fresh
child processes, so no backend inherits another's memory or caches:

* **build** starts from the float32 matrix and persists the store as the indexer would
  (numpy / usearch-exact: float32 blobs in an SQLite table, one transaction; sqlite-vec: a vec0
  table; usearch-hnsw: ``Index.add`` on all cores, then ``Index.save``);
* **serve** is a new process, like ``contextos search``: *open* is the time from persisted state
  to the first answerable query (numpy: read the blobs into one matrix; sqlite-vec: connect and
  load the extension; usearch-hnsw: ``Index.restore``); then top-``--k`` queries one at a time on
  one thread, after 10 warm-up queries, timed for p50/p95/mean; recall@k against the exact
  top-k, so an approximate index cannot win by being wrong; memory is the growth of anonymous
  RSS (heap) from before open to after the last query, plus the store's size on disk.

    python -m benchmarks.micro.vector_store --n 100000 --out vector_store.json
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from benchmarks.common.results import REPO_ROOT

BACKENDS = ("numpy", "sqlite-vec", "usearch-hnsw", "usearch-hnsw@256", "usearch-exact")
"""``usearch-hnsw@N`` sets HNSW ``expansion_search`` (ef) to N; plain ``usearch-hnsw`` keeps
usearch's default (64)."""

TARGET_P95_MS = 50.0
WARMUP = 10
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
"""Queries are timed single-threaded for every backend: a server answers many queries at once,
so per-query parallelism would only hide contention. usearch still builds on all cores."""

Matrix = NDArray[np.float32]
Search = Callable[[Matrix, int], NDArray[np.int64]]


def _unit(rows: NDArray[np.float64]) -> Matrix:
    out = rows.astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def make_data(n: int, dim: int, queries: int, seed: int = 0) -> tuple[Matrix, Matrix]:
    """Hierarchically clustered unit vectors and held-out queries from the same mixture."""
    rng = np.random.default_rng(seed)
    topics = rng.normal(size=(100, dim))
    subtopics = np.repeat(topics, 100, axis=0) + rng.normal(scale=0.8, size=(10_000, dim))

    def draw(count: int) -> Matrix:
        picks = rng.integers(0, len(subtopics), size=count)
        return _unit(subtopics[picks] + rng.normal(scale=1.0, size=(count, dim)))

    return draw(n), draw(queries)


def exact_top_k(data: Matrix, queries: Matrix, k: int) -> NDArray[np.int64]:
    scores = queries.astype(np.float64) @ data.T.astype(np.float64)
    return np.argpartition(-scores, k, axis=1)[:, :k].astype(np.int64)


def _rss_anon_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file()) / 2**20


# ------------------------------------------------------------------ SQLite


def _connect(path: Path, extensions: bool = False) -> tuple[Any, str]:
    """A connection; with ``extensions``, one that can load them: stdlib ``sqlite3`` if this
    Python was built with extension loading, else ``apsw`` (which bundles its own SQLite)."""
    conn = sqlite3.connect(path, isolation_level=None)
    if not extensions or hasattr(conn, "enable_load_extension"):
        return conn, f"sqlite3 (SQLite {sqlite3.sqlite_version})"
    conn.close()
    import apsw

    return apsw.Connection(str(path)), f"apsw (SQLite {apsw.sqlite_lib_version()})"


def _load_vec(conn: Any) -> None:
    import sqlite_vec

    conn.enable_load_extension(True)
    conn.load_extension(sqlite_vec.loadable_path())
    conn.enable_load_extension(False)


def _write_blobs(data: Matrix, work: Path) -> None:
    conn, _ = _connect(work / "store.db")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE vector (id INTEGER PRIMARY KEY, v BLOB NOT NULL)")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO vector VALUES (?, ?)", ((i, r.tobytes()) for i, r in enumerate(data))
    )
    conn.execute("COMMIT")
    conn.close()


def _read_blobs(work: Path, dim: int) -> Matrix:
    conn, _ = _connect(work / "store.db")
    rows = conn.execute("SELECT v FROM vector ORDER BY id").fetchall()
    conn.close()
    return np.frombuffer(b"".join(r[0] for r in rows), dtype=np.float32).reshape(-1, dim)


# ------------------------------------------------------------------ backends


def build(name: str, data: Matrix, work: Path) -> dict[str, Any]:
    """Persist ``data`` in ``work`` the way backend ``name`` stores it."""
    if name in ("numpy", "usearch-exact"):
        _write_blobs(data, work)
        return {}
    if name == "sqlite-vec":
        conn, driver = _connect(work / "store.db", extensions=True)
        _load_vec(conn)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(
            f"CREATE VIRTUAL TABLE vec USING vec0(embedding float[{data.shape[1]}] "
            "distance_metric=cosine)"
        )
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO vec(rowid, embedding) VALUES (?, ?)",
            ((i, r.tobytes()) for i, r in enumerate(data)),
        )
        conn.execute("COMMIT")
        conn.close()
        return {"driver": driver}
    from usearch.index import Index

    _, _, ef = name.partition("@")
    index = Index(
        ndim=data.shape[1],
        metric="ip",
        dtype="f32",
        connectivity=16,
        expansion_search=int(ef) if ef else None,
    )
    index.add(np.arange(len(data), dtype=np.uint64), data, threads=os.cpu_count() or 1)
    index.save(str(work / "index.usearch"))
    return {"connectivity": 16, "expansion_add": index.expansion_add}


def open_store(name: str, work: Path, dim: int) -> tuple[Search, dict[str, Any]]:
    """Open the persisted store in a fresh process; return its top-k search."""
    if name == "numpy":
        matrix = _read_blobs(work, dim)

        def search_numpy(query: Matrix, k: int) -> NDArray[np.int64]:
            scores = matrix @ query
            top = np.argpartition(-scores, k)[:k]
            return top[np.argsort(-scores[top])].astype(np.int64)

        return search_numpy, {}
    if name == "usearch-exact":
        from usearch.index import search as usearch_search

        store = _read_blobs(work, dim)

        def search_exact(query: Matrix, k: int) -> NDArray[np.int64]:
            found = usearch_search(store, query, k, metric="ip", exact=True, threads=1)
            return np.asarray(found.keys, dtype=np.int64).reshape(-1)

        return search_exact, {}
    if name == "sqlite-vec":
        conn, _ = _connect(work / "store.db", extensions=True)
        _load_vec(conn)

        def search_vec(query: Matrix, k: int) -> NDArray[np.int64]:
            rows = conn.execute(
                "SELECT rowid FROM vec WHERE embedding MATCH ? AND k = ? ORDER BY distance",
                (query.tobytes(), k),
            ).fetchall()
            return np.array([r[0] for r in rows], dtype=np.int64)

        return search_vec, {}
    from usearch.index import Index

    _, _, ef = name.partition("@")
    index = Index.restore(str(work / "index.usearch"))
    if index is None:
        raise RuntimeError(f"cannot restore {work / 'index.usearch'}")
    if ef:
        index.expansion_search = int(ef)

    def search_hnsw(query: Matrix, k: int) -> NDArray[np.int64]:
        return np.asarray(index.search(query, k, threads=1).keys, dtype=np.int64)

    return search_hnsw, {"expansion_search": index.expansion_search}


def serve(name: str, work: Path, data_dir: Path, k: int) -> dict[str, Any]:
    queries = np.load(data_dir / "queries.npy")
    truth = np.load(data_dir / "truth.npy")
    anon = _rss_anon_mb()
    t0 = time.perf_counter()
    search, extra = open_store(name, work, queries.shape[1])
    open_s = time.perf_counter() - t0
    for q in queries[:WARMUP]:
        search(q, k)
    latencies, recalls = [], []
    for q, exact in zip(queries[WARMUP:], truth, strict=True):
        t = time.perf_counter()
        found = search(q, k)
        latencies.append((time.perf_counter() - t) * 1000)
        recalls.append(len(set(found.tolist()) & set(exact.tolist())) / k)
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "open_s": round(open_s, 3),
        "query_p50_ms": round(cuts[49], 2),
        "query_p95_ms": round(cuts[94], 2),
        "query_mean_ms": round(statistics.fmean(latencies), 2),
        f"recall_at_{k}": round(statistics.fmean(recalls), 4),
        "heap_mb": round(_rss_anon_mb() - anon, 1),
        **extra,
    }


# ------------------------------------------------------------------ driver


def _child(*args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.micro.vector_store", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, **ONE_THREAD},
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run_backend(name: str, data_dir: Path, k: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=data_dir) as tmp:
        common = ["--backend", name, "--work", tmp, "--data-dir", str(data_dir), "--k", str(k)]
        load = os.getloadavg()[0]
        built = _child("--phase", "build", *common)
        served = _child("--phase", "serve", *common) if "error" not in built else {}
        disk = round(_dir_mb(Path(tmp)), 1)
    return {"backend": name, **built, **served, "disk_mb": disk, "load_avg_1m": round(load, 2)}


def _phase(args: argparse.Namespace) -> dict[str, Any]:
    work, data_dir = Path(args.work), Path(args.data_dir)
    if args.phase == "serve":
        return serve(args.backend, work, data_dir, args.k)
    data = np.load(data_dir / "data.npy")
    t0 = time.perf_counter()
    extra = build(args.backend, data, work)
    return {"build_s": round(time.perf_counter() - t0, 2), **extra}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.micro.vector_store", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--n", type=int, default=100_000, help="vectors in the store")
    parser.add_argument("--dim", type=int, default=256, help="dimensions")
    parser.add_argument("--queries", type=int, default=200, help="timed queries")
    parser.add_argument("--k", type=int, default=50, help="neighbours per query")
    parser.add_argument("--out", type=Path, help="JSON file to write")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated subset")
    for hidden in ("--phase", "--backend", "--work", "--data-dir"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        print(json.dumps(_phase(args)))
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        data, queries = make_data(args.n, args.dim, args.queries + WARMUP)
        np.save(data_dir / "data.npy", data)
        np.save(data_dir / "queries.npy", queries)
        np.save(data_dir / "truth.npy", exact_top_k(data, queries[WARMUP:], args.k))
        del data
        results = [run_backend(name, data_dir, args.k) for name in args.backends.split(",")]

    report = {
        "n": args.n,
        "dim": args.dim,
        "k": args.k,
        "queries": args.queries,
        "cpu_count": os.cpu_count(),
        "target_p95_ms": TARGET_P95_MS,
        "results": results,
    }
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    cols = ["backend", "build_s", "open_s", "query_p50_ms", "query_p95_ms", f"recall_at_{args.k}"]
    cols += ["heap_mb", "disk_mb", "load_avg_1m"]
    print(f"n={args.n} dim={args.dim} k={args.k} queries={args.queries} cpus={os.cpu_count()}")
    print(" ".join(f"{c:>16}" for c in cols))
    for r in results:
        print(" ".join(f"{r.get(c, '')!s:>16}" for c in cols))
        if "error" in r:
            print(f"  {r['backend']}: {r['error']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""End-to-end search latency at scale: one workspace holding several repositories' trees.

Extracts the given repositories (bare mirrors, HEAD) side by side into one directory, indexes it
as one workspace (≈100k chunks with sympy + astropy + sphinx + xarray + pylint), then times
``Workspace.search`` for the dev problem statements in hybrid, lexical and dense mode (files and
chunks). The first query of each mode is a warm-up and not timed (it loads the BM25 snapshot
and the vector matrix). Writes JSON and prints a table.

    python -m benchmarks.micro.search_latency --mirrors /work/.mirror --out search_latency.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from benchmarks.common.trees import materialise, mirror_path
from contextos import Workspace

DEFAULT_REPOS = "sympy/sympy,astropy/astropy,sphinx-doc/sphinx,pydata/xarray,pylint-dev/pylint"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.micro.search_latency", description=__doc__.splitlines()[0]
    )
    p.add_argument("--mirrors", type=Path, required=True)
    p.add_argument("--repos", default=DEFAULT_REPOS)
    p.add_argument("--instances", type=Path, default=Path("../shared/bench/localize/dev.jsonl"))
    p.add_argument("--work", type=Path, default=Path(".bench/latency"))
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--out", type=Path, default=Path("search_latency.json"))
    args = p.parse_args(argv)
    os.environ.setdefault("CONTEXTOS_HOME", str((args.work / "home").resolve()))
    tree = args.work / "tree"
    for repo in args.repos.split(","):
        materialise(mirror_path(args.mirrors, repo), "HEAD", tree / repo.replace("/", "+"))
    ws = Workspace(tree, db_path=args.work / "latency.db")
    started = time.perf_counter()
    summary = ws.index()
    index_s = time.perf_counter() - started
    queries = [
        json.loads(line)["problem_statement"] for line in args.instances.read_text().splitlines()
    ]
    queries = queries[: args.queries]
    result: dict[str, object] = {
        "chunks": summary.chunks_total,
        "files": summary.files_seen,
        "index_s": round(index_s, 1),
        "queries": len(queries),
    }
    for mode in ("hybrid", "lexical", "dense"):
        for files in (True, False):
            ws.search("warm up", k=10, files=files, mode=mode)  # type: ignore[call-overload]
            times = []
            for q in queries:
                t = time.perf_counter()
                ws.search(q, k=10, files=files, mode=mode)  # type: ignore[call-overload]
                times.append((time.perf_counter() - t) * 1000)
            key = f"{mode}{'-files' if files else '-chunks'}"
            p50, p95 = round(statistics.median(times), 1), round(_pct(times, 0.95), 1)
            result[key] = {"p50_ms": p50, "p95_ms": p95}
            print(f"{key:16s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
    ws.close()
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if not isinstance(v, dict)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

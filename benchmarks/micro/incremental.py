"""Incremental re-index cost: change one file in a 1,000-file repository and re-index.

Measures, in one process on one tree: a full index, a no-change re-run, a one-file-changed
re-run, and (the baseline for "one file's work") indexing a repository holding only that file.
Writes JSON and prints a table.

    python -m benchmarks.micro.incremental --files 1000 --out incremental.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from contextos import Workspace


def _module(i: int) -> str:
    funcs = "\n\n".join(
        f"def handler_{i}_{j}(request, retries={j}):\n"
        f'    """Handle request kind {j} for module {i}."""\n'
        f"    value = request.get('field_{j}')\n"
        f"    for attempt in range(retries):\n"
        f"        value = transform_{j}(value, attempt)\n"
        f"    return value\n"
        for j in range(8)
    )
    return f'"""Module {i}."""\nimport os\n\n\nclass Service{i}:\n    name = "svc{i}"\n\n{funcs}\n'


def _make_tree(root: Path, n: int) -> None:
    for i in range(n):
        path = root / f"pkg{i // 50}" / f"mod_{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_module(i))


def _timed(ws: Workspace) -> tuple[float, int]:
    start = time.perf_counter()
    summary = ws.index()
    return time.perf_counter() - start, summary.chunks_written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.micro.incremental", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("incremental.json"))
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ctx-incr-"))
    os.environ.setdefault("CONTEXTOS_HOME", str(work / "home"))
    try:
        tree = work / "tree"
        _make_tree(tree, args.files)
        single = work / "single"
        single.mkdir()
        ws = Workspace(tree)
        full_s, full_chunks = _timed(ws)
        noop = [_timed(ws)[0] for _ in range(args.repeats)]
        one: list[float] = []
        one_chunks = 0
        target = tree / "pkg0" / "mod_0.py"
        for r in range(args.repeats):
            target.write_text(_module(0) + f"\n# edit {r}\n")
            seconds, one_chunks = _timed(ws)
            one.append(seconds)
        single_times = []
        for r in range(args.repeats):
            (single / "mod_0.py").write_text(_module(0) + f"\n# single {r}\n")
            sws = Workspace(single, embedder=ws.embedder(), db_path=work / f"single{r}.db")
            single_times.append(_timed(sws)[0])
            sws.close()
        ws.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {
        "files": args.files,
        "embedder": ws.embedder().name if ws.embedder() else "none",
        "full_index_s": round(full_s, 3),
        "full_chunks": full_chunks,
        "noop_reindex_s_median": round(statistics.median(noop), 4),
        "one_file_reindex_s_median": round(statistics.median(one), 4),
        "one_file_chunks_rewritten": one_chunks,
        "single_file_repo_index_s_median": round(statistics.median(single_times), 4),
        "one_file_vs_full_ratio": round(statistics.median(one) / full_s, 4),
        "one_file_vs_single_file_repo_ratio": round(
            statistics.median(one) / statistics.median(single_times), 2
        ),
    }
    args.out.write_text(json.dumps(result, indent=2))
    for key, value in result.items():
        print(f"{key:40s} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

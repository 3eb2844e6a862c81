"""Tune ``SearchConfig`` on the localization dev split, on workspaces kept by localize.py.

Run ``localize.py --keep-workspaces`` first; this script reopens each kept workspace (no
re-indexing), evaluates candidate configs, and walks coordinate-wise from the current defaults,
keeping a change only if it raises ``acc@1 + acc@5`` over the dev instances. Dev data only: the
defaults this prints are what ``SearchConfig`` ships with.

    python benchmarks/tune_localize.py --instances ../shared/bench/localize/dev.jsonl \\
        --work .bench/localize --out tune.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

from _metrics import all_gold_rank
from contextos import SearchConfig, Workspace

GRID: dict[str, list[Any]] = {
    "rrf_k": [5, 10, 20, 30, 60],
    "w_file_bm25": [0.0, 0.5, 1.0, 1.5, 2.0],
    "w_chunk_bm25": [0.0, 0.5, 1.0, 1.5, 2.0],
    "w_dense": [0.0, 0.25, 0.5, 1.0, 1.5],
    "w_mention": [0.0, 0.5, 1.0, 1.5, 2.0, 3.0],
    "test_penalty": [0.2, 0.35, 0.5, 0.75, 1.0],
    "prose_penalty": [0.3, 0.5, 0.7, 0.85, 1.0],
    "changelog_penalty": [0.1, 0.3, 0.6, 1.0],
    "plain_word_weight": [0.0, 0.25, 0.5, 1.0],
    "max_terms": [24, 48, 64, 96, 160],
    "names_weight": [1.0, 2.0, 3.0],
}


def evaluate(
    spaces: list[tuple[dict[str, Any], Workspace]], cfg: SearchConfig
) -> tuple[float, float, float]:
    at1 = at5 = at10 = 0
    for inst, ws in spaces:
        hits = ws.search(inst["problem_statement"], k=10, files=True, config=cfg)
        rank = all_gold_rank([h.path for h in hits], inst["gold_files"])
        at1 += rank is not None and rank <= 1
        at5 += rank is not None and rank <= 5
        at10 += rank is not None and rank <= 10
    n = max(len(spaces), 1)
    return 100 * at1 / n, 100 * at5 / n, 100 * at10 / n


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--instances", type=Path, required=True)
    p.add_argument("--work", type=Path, default=Path(".bench/localize"))
    p.add_argument("--out", type=Path, default=Path("tune.json"))
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--done", type=Path, nargs="*", help="localize.py results: tune on their ids")
    args = p.parse_args()
    os.environ["CONTEXTOS_HOME"] = str((args.work / "home").resolve())
    done: set[str] | None = None
    if args.done:
        done = {
            r["instance_id"] for f in args.done for r in json.loads(f.read_text())["per_instance"]
        }
    from contextos.embed.resolve import resolve_embedder
    from contextos.settings import Settings

    embedder, _ = resolve_embedder(Settings())
    spaces = []
    for line in args.instances.read_text().splitlines():
        inst = json.loads(line)
        if done is not None and inst["instance_id"] not in done:
            continue
        tree, db = (
            args.work / "trees" / inst["instance_id"],
            args.work / "ws" / f"{inst['instance_id']}.db",
        )
        if tree.is_dir() and db.is_file():
            spaces.append((inst, Workspace(tree, db_path=db, embedder=embedder)))
    print(f"{len(spaces)} kept workspaces", file=sys.stderr)
    cfg = SearchConfig()
    best = evaluate(spaces, cfg)
    history = [{"config": dataclasses.asdict(cfg), "acc@1,5,10": best}]
    print("start", best, file=sys.stderr)
    for _ in range(args.rounds):
        improved = False
        for name, values in GRID.items():
            for value in values:
                if getattr(cfg, name) == value:
                    continue
                trial = dataclasses.replace(cfg, **{name: value})
                score = evaluate(spaces, trial)
                history.append({"config": dataclasses.asdict(trial), "acc@1,5,10": score})
                if score[0] + score[1] > best[0] + best[1]:
                    cfg, best, improved = trial, score, True
                    print(f"{name}={value} -> {score}", file=sys.stderr)
        if not improved:
            break
    args.out.write_text(
        json.dumps({"best": dataclasses.asdict(cfg), "score": best, "history": history}, indent=1)
    )
    print(json.dumps({"best": dataclasses.asdict(cfg), "acc@1,5,10": best}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

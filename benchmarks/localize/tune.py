"""Tune ``SearchConfig`` on the localization dev split, on the workspaces a localize run kept.

Run ``python -m benchmarks.localize --keep-workspaces`` first. This reopens each kept workspace
(no re-indexing) and walks coordinate-wise from the current defaults, keeping a change only if
it raises ``acc@1 + acc@5`` over the dev instances. The evidence of every ranking is gathered once
per setting of the parameters that change it (``max_terms``, ``names_weight``,
``plain_word_weight``); fusion weights and priors are then evaluated on that evidence in
memory, exactly as ``search`` fuses it. Dev data only.

    python -m benchmarks.localize.tune --instances ../shared/bench/localize/dev.jsonl \\
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

from benchmarks.common.metrics import all_gold_rank
from contextos import SearchConfig, Workspace
from contextos.code.search import Evidence, fuse_files, gather, weights_for
from contextos.retrieval.fusion import top_by_score

GATHER_KEYS = ("max_terms", "names_weight", "plain_word_weight")
GRID: dict[str, list[Any]] = {
    "rrf_k": [5, 10, 20, 30, 60, 100],
    "w_file_bm25": [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0],
    "w_chunk_bm25": [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0],
    "w_dense": [0.0, 0.1, 0.25, 0.5, 0.75, 1.0],
    "w_mention": [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0],
    "test_penalty": [0.1, 0.2, 0.35, 0.5, 0.75, 1.0],
    "prose_penalty": [0.1, 0.2, 0.3, 0.5, 0.7, 1.0],
    "changelog_penalty": [0.05, 0.1, 0.3, 0.6, 1.0],
    "plain_word_weight": [0.0, 0.25, 0.5, 1.0, 1.5],
    "max_terms": [8, 12, 16, 24, 32, 48, 64],
    "names_weight": [1.0, 2.0, 3.0, 5.0],
}

Space = tuple[dict[str, Any], Workspace]


class Evaluator:
    def __init__(self, spaces: list[Space]) -> None:
        self.spaces = spaces
        self._evidence: dict[tuple[Any, ...], list[Evidence]] = {}

    def evidence(self, cfg: SearchConfig) -> list[Evidence]:
        key = tuple(getattr(cfg, k) for k in GATHER_KEYS)
        if key not in self._evidence:
            full = weights_for(cfg, "hybrid")
            full = {name: 1.0 for name in full}
            self._evidence[key] = [
                gather(
                    ws.conn,
                    ws._snapshots,
                    ws._search_embedder(),
                    inst["problem_statement"],
                    cfg,
                    full,
                )
                for inst, ws in self.spaces
            ]
        return self._evidence[key]

    def score(self, cfg: SearchConfig, mode: str = "hybrid") -> tuple[float, float, float]:
        weights = weights_for(cfg, mode)  # type: ignore[arg-type]
        counts = [0, 0, 0]
        for (inst, _), ev in zip(self.spaces, self.evidence(cfg), strict=True):
            ranked = top_by_score(fuse_files(ev, weights, cfg), 10)
            rank = all_gold_rank(ranked, inst["gold_files"])
            for i, k in enumerate((1, 5, 10)):
                counts[i] += rank is not None and rank <= k
        n = max(len(self.spaces), 1)
        return tuple(round(100 * c / n, 1) for c in counts)  # type: ignore[return-value]


def load_spaces(args: argparse.Namespace) -> list[Space]:
    from contextos.embed.resolve import resolve_embedder
    from contextos.settings import Settings

    embedder, _ = resolve_embedder(Settings())
    spaces = []
    for line in args.instances.read_text().splitlines():
        inst = json.loads(line)
        iid = inst["instance_id"]
        tree, db = args.work / "trees" / iid, args.work / "ws" / f"{iid}.db"
        if tree.is_dir() and db.is_file():
            spaces.append((inst, Workspace(tree, db_path=db, embedder=embedder)))
    return spaces


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.localize.tune", description=__doc__.splitlines()[0]
    )
    p.add_argument("--instances", type=Path, required=True)
    p.add_argument("--work", type=Path, default=Path(".bench/localize"))
    p.add_argument("--out", type=Path, default=Path("tune.json"))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--start", default="{}", help="SearchConfig fields to start from (JSON)")
    p.add_argument("--skip", default="", help="comma-separated parameters not to tune")
    args = p.parse_args(argv)
    os.environ["CONTEXTOS_HOME"] = str((args.work / "home").resolve())
    spaces = load_spaces(args)
    print(f"{len(spaces)} kept workspaces", file=sys.stderr)
    ev = Evaluator(spaces)
    cfg = SearchConfig(**json.loads(args.start))
    grid = {k: v for k, v in GRID.items() if k not in args.skip.split(",")}
    best = ev.score(cfg)
    history: list[dict[str, Any]] = [{"config": dataclasses.asdict(cfg), "acc@1,5,10": best}]
    print("start", best, file=sys.stderr)
    for _ in range(args.rounds):
        improved = False
        for name, values in grid.items():
            for value in values:
                if getattr(cfg, name) == value:
                    continue
                trial = dataclasses.replace(cfg, **{name: value})
                score = ev.score(trial)
                history.append({"config": dataclasses.asdict(trial), "acc@1,5,10": score})
                if score[0] + score[1] > best[0] + best[1]:
                    cfg, best, improved = trial, score, True
                    print(f"{name}={value} -> {score}", file=sys.stderr)
        if not improved:
            break
    modes = {m: ev.score(cfg, m) for m in ("hybrid", "lexical", "dense")}
    out = {"best": dataclasses.asdict(cfg), "score": best, "modes": modes, "history": history}
    args.out.write_text(json.dumps(out, indent=1))
    print(json.dumps({"best": dataclasses.asdict(cfg), "modes": modes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Gold-in-budget: how often the code a fix touched is inside a context packed to a token budget.

For each localization instance the tree at ``base_commit`` and its contextos index are reused
from the localization harness's work directory (``trees/<id>``, ``ws/<id>.db``; a missing one is
extracted and indexed with the same code and lock). The query is the problem statement. Every
system packs code into 2k, 4k, 8k and 16k tokens (o200k, as for gpt-4.1), in one process, on the
same trees:

* ``contextos`` — what ``contextos context`` does for its code: ``Workspace.search`` chunk hits
  (hybrid, default ``SearchConfig`` unless ``--search-config``; ``code_depth(budget)`` of them,
  300 up to 15k tokens) → ``select_code`` (whole hits best first, a hit that does not fit is
  skipped, class outlines left out) → ``pack``; with the code alone, its room is the budget;
* ``bm25-files`` — whole-file BM25 (``bm25s``, ``code_tokens``, path + text, test files left
  out, over the files contextos indexed); the top files in full, best first, a file that does not
  fit in what is left skipped for the next one (top 100 tried);
* ``repo-map`` — an Aider-style map of definitions ranked by personalised PageRank over the
  definition/reference graph (``benchmarks.pack.repomap``), cut by binary search to the budget.

The code layers alone get the budget: no system, task or tool layers. What is charged is what
``pack`` charges: every layer's rendered text (the ``<<<DATA`` wrapper lines, ``path:a-b``
headers, fences, code) plus the separator after it; the repo map is wrapped and charged the same.

Gold (``benchmarks.pack.gold``): every gold file present and, for rows with ``expected_spans``,
every gold symbol's whole definition (the line range of its chunks by contextos's chunker at
``base_commit``) inside the packed lines of that file, every non-blank line of it; pseudo-symbols
for module-level code and symbols absent at ``base_commit`` only require the file. For
``repo-map`` the gold file must be listed and each gold symbol's signature line shown.

Also measured (``benchmarks.pack.speed``): 1,000 ranked code hits into 128k tokens through
``select_code`` + ``pack`` (``pack_ms_p95``), and the ``pack`` primitive alone over 1,000
shrinkable code layers (``pack_speed_primitive``).
Figures are percentages of instances (one decimal); a system that fails on an instance misses it.

    python -m benchmarks.pack --instances ../shared/bench/localize/dev.jsonl \\
        --mirrors /work/.mirror --out pack.json [--limit N] [--work .bench/localize]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common.instances import (
    add_instance_args,
    check_instance_args,
    instance_lock,
    load_instances,
    load_search_config,
    remove_db,
)
from benchmarks.common.results import machine_info, write_json_atomic
from benchmarks.common.trees import is_test_path, materialise, mirror_path
from benchmarks.localize.bm25 import BM25_DESCRIPTION, Bm25Files
from benchmarks.localize.harness import WARMUP_QUERY
from benchmarks.pack.gold import Gold, covered_lines, file_lines, gold_for, gold_met
from benchmarks.pack.report import BUDGETS, build_report, print_table

SYSTEMS = ("contextos", "bm25-files", "repo-map")
BM25_DEPTH = 100
MODEL = "gpt-4.1"
DEFINITIONS = {
    "figures": "percent of instances whose gold is inside the pack, one decimal",
    "gold": "all gold files present (>=1 packed line); with expected_spans, every gold symbol's "
    "definition (line range of its contextos chunks at base_commit) has every non-blank line "
    "packed under a correct path:a-b header; pseudo-symbols (imports, impl:N, Class:N) and "
    "symbols absent at base_commit require the file only",
    "repo-map gold": "gold file listed in the map, and each gold symbol's signature line listed",
    "budget": "o200k tokens of the packed code layers alone: rendered text incl. the data-block "
    "wrapper, path:a-b headers, fences, plus the 2-newline separator per layer",
}


@dataclass(frozen=True)
class Env:
    """What every instance shares: arguments, the embedder, the counter, the search config."""

    args: argparse.Namespace
    embedder: Any
    counter: Any
    config: Any


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def _indexed(db: Path) -> bool:
    if not db.is_file():
        return False
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        try:
            return bool(conn.execute("SELECT COUNT(*) FROM files").fetchone()[0])
        except sqlite3.Error:
            return False


def prepare(inst: dict[str, Any], env: Env) -> tuple[Path, Path, dict[str, Any]]:
    """The instance's tree and index, extracted and indexed now only if missing."""
    from contextos import Workspace

    iid = inst["instance_id"]
    tree, db = env.args.work / "trees" / iid, env.args.work / "ws" / f"{iid}.db"
    extraction = materialise(mirror_path(env.args.mirrors, inst["repo"]), inst["base_commit"], tree)
    notes: dict[str, Any] = {"reused_tree": not extraction.created}
    if extraction.created:
        remove_db(db)
    if not _indexed(db):
        db.parent.mkdir(parents=True, exist_ok=True)
        with Workspace(tree, db_path=db, embedder=env.embedder) as ws:
            notes["indexed_s"] = round(ws.index().seconds, 1)
    return tree, db, notes


def _score(packed_text: str, gold: Gold) -> bool:
    return gold_met(gold, covered_lines(packed_text, gold.file_texts))


def _packed_result(packed: Any, gold: Gold) -> dict[str, Any]:
    included = [lid for lid, status, _ in packed.layers if status != "excluded"]
    return {
        "gold": _score(packed.text, gold),
        "used": packed.used,
        "files": len(included),
        "truncated": sum(1 for _, status, _ in packed.layers if status == "truncated"),
    }


def _rank_of(paths: list[str], wanted: tuple[str, ...]) -> int | None:
    """1-based rank at which every wanted path has appeared (None if one never does)."""
    pos = {p: i for i, p in reversed(list(enumerate(paths, start=1)))}
    ranks = [pos.get(p) for p in wanted]
    return None if not ranks or None in ranks else max(r for r in ranks if r is not None)


def run_contextos(ws: Any, tree: Path, query: str, gold: Gold, env: Env) -> dict[str, Any]:
    from benchmarks.pack.systems import pack_code
    from contextos.context.code_fill import code_depth

    depth = max(code_depth(n) for n in BUDGETS.values())
    ranked = ws.search(query, depth, config=env.config)
    out = {
        b: _packed_result(pack_code(ranked[: code_depth(n)], n, env.counter), gold)
        for b, n in BUDGETS.items()
    }
    hits = [h for h in ranked if h.kind != "class"]
    spans = [
        next((i for i, h in enumerate(hits, 1) if (h.path, h.symbol) == (s.path, s.symbol)), None)
        for s in gold.spans
    ]
    files = list(dict.fromkeys(h.path for h in ranked))
    return {**out, "gold_file_rank": _rank_of(files, gold.files), "gold_span_hit_ranks": spans}


def run_bm25(ws: Any, tree: Path, query: str, gold: Gold, env: Env) -> dict[str, Any]:
    from benchmarks.pack.systems import pack_files, whole_file
    from contextos.code.chunking.languages import language_for

    ranked = Bm25Files(tree, ws.indexed_paths()).rank(query, BM25_DEPTH)
    files = [
        whole_file(p, language_for(p) or "text", file_lines(_read(tree / p)), i)
        for i, p in enumerate(ranked, start=1)
    ]
    out = {b: _packed_result(pack_files(files, n, env.counter), gold) for b, n in BUDGETS.items()}
    return {**out, "gold_file_rank": _rank_of(ranked, gold.files)}


def run_repo_map(ws: Any, tree: Path, query: str, gold: Gold, env: Env) -> dict[str, Any]:
    from benchmarks.pack.repomap import build_repo_map
    from contextos.context import quoted
    from contextos.context.report import SEPARATOR

    wrap = quoted("repository map")
    paths = [p for p in ws.indexed_paths() if not is_test_path(p)]
    repo_map = build_repo_map(query, tree, ws.conn, paths)
    out: dict[str, Any] = {}
    for label, budget in BUDGETS.items():
        _, used, files, listed = repo_map.fit(
            budget, lambda t: env.counter.count(wrap(t) + SEPARATOR)
        )
        ok = all(p in files for p in gold.files) and all(
            (s.path, s.symbol) in listed for s in gold.spans
        )
        out[label] = {"gold": ok, "used": used, "files": len(files), "definitions": len(listed)}
    ranked = sorted(repo_map.rank, key=lambda p: -repo_map.rank[p])
    return {**out, "gold_file_rank": _rank_of(ranked, gold.files)}


RUNNERS: dict[str, Callable[[Any, Path, str, Gold, Env], dict[str, Any]]] = {
    "contextos": run_contextos,
    "bm25-files": run_bm25,
    "repo-map": run_repo_map,
}


def run_instance(inst: dict[str, Any], env: Env) -> dict[str, Any]:
    """One instance through every system; a failing system misses it and says why."""
    from contextos import Workspace

    with instance_lock(env.args.work, inst["instance_id"]):
        tree, db, notes = prepare(inst, env)
        texts = {p: _read(tree / p) for p in inst["gold_files"] if (tree / p).is_file()}
        gold = gold_for(inst, texts)
        systems: dict[str, Any] = {}
        seconds: dict[str, float] = {}
        errors: dict[str, str] = {}
        with Workspace(tree, db_path=db, embedder=env.embedder) as ws:
            start = time.perf_counter()
            ws.search(WARMUP_QUERY, k=1)  # loads the index snapshots outside every system's time
            notes["warmup_s"] = round(time.perf_counter() - start, 2)
            for name in env.args.systems:
                start = time.perf_counter()
                try:
                    systems[name] = RUNNERS[name](ws, tree, inst["problem_statement"], gold, env)
                except Exception as exc:  # a benchmark records a failing system and goes on
                    errors[name] = f"{type(exc).__name__}: {exc}"
                seconds[name] = round(time.perf_counter() - start, 2)
            warnings = list(dict.fromkeys(ws.warnings))
    return {
        "instance_id": inst["instance_id"],
        "repo": inst["repo"],
        "split": inst.get("split"),
        "gold_files": list(gold.files),
        "gold_spans": [f"{s.path}::{s.symbol}:{s.start}-{s.end}" for s in gold.spans],
        "gold_file_only": list(gold.pseudo) + list(gold.unresolved),
        "systems": systems,
        "seconds": seconds,
        "errors": errors,
        "warnings": warnings,
        **notes,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.pack", description=__doc__.split("\n\n")[0]
    )
    add_instance_args(p, SYSTEMS)
    p.add_argument("--speed-reps", type=int, default=60, help="pack-speed repetitions (0: skip)")
    return check_instance_args(p, p.parse_args(argv), SYSTEMS)


def make_env(args: argparse.Namespace) -> Env:
    from contextos.context import counter_for
    from contextos.embed.resolve import resolve_embedder
    from contextos.settings import Settings

    embedder, warnings = resolve_embedder(Settings())
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    config = load_search_config(args.search_config)
    return Env(args, embedder, counter_for(MODEL), config)


def _marks(row: dict[str, Any], system: str) -> str:
    """``+`` per budget where ``system`` packed the gold, ``.`` where it did not."""
    got = row["systems"].get(system, {})
    return "".join("+" if got.get(b, {}).get("gold") else "." for b in BUDGETS)


def run_meta(args: argparse.Namespace, env: Env) -> dict[str, Any]:
    """Everything needed to reproduce a run: arguments, engine settings, machine, commit."""
    from contextos.code.search import SearchConfig
    from contextos.context.code_fill import code_depth

    return {
        "config": {
            "instances": str(args.instances),
            "mirrors": str(args.mirrors),
            "work": str(args.work),
            "limit": args.limit,
            "repos": args.repos,
            "systems": args.systems,
            "budgets": BUDGETS,
            "model": MODEL,
            "counter": env.counter.name,
            "embedder": getattr(env.embedder, "name", None),
            "contextos": {
                "k": {b: code_depth(n) for b, n in BUDGETS.items()},
                "search_config": dataclasses.asdict(env.config or SearchConfig()),
            },
            "bm25": {**BM25_DESCRIPTION, "depth": BM25_DEPTH},
        },
        "definitions": DEFINITIONS,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
    }


def _progress(i: int, total: int, row: dict[str, Any], seconds: float, since: float) -> None:
    got = " ".join(f"{s}={_marks(row, s)}" for s in row["systems"])
    err = f" errors={row['errors']}" if row["errors"] else ""
    print(
        f"[{i}/{total}] {row['instance_id']} {seconds:.1f}s, total {since:.0f}s | {got}{err}",
        file=sys.stderr,
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ["CONTEXTOS_HOME"] = str(args.work / "home")
    os.environ.setdefault("CONTEXTOS_OFFLINE", "1")
    from benchmarks.pack.speed import measure, measure_engine

    env = make_env(args)
    instances = load_instances(args.instances, args.repos, args.limit)
    meta = run_meta(args, env)
    rows: list[dict[str, Any]] = []
    start = time.perf_counter()
    try:
        for i, inst in enumerate(instances, start=1):
            t0 = time.perf_counter()
            rows.append(run_instance(inst, env))
            now = time.perf_counter()
            _progress(i, len(instances), rows[-1], now - t0, now - start)
            if args.save_every and i % args.save_every == 0 and i < len(instances):
                write_json_atomic(args.out, build_report(rows, meta, partial=True))
        if args.speed_reps > 0:
            speed = measure_engine(reps=args.speed_reps)
            meta["pack_ms_p95"], meta["pack_speed"] = speed["pack_ms_p95"], speed
            meta["pack_speed_primitive"] = measure(reps=args.speed_reps)
    finally:
        meta["seconds_total"] = round(time.perf_counter() - start, 1)
        report = build_report(rows, meta, partial=len(rows) < len(instances))
        write_json_atomic(args.out, report)
    print_table(report)
    return 0

"""Code-localization benchmark: issue text → the files the fix touched.

For each instance the repository tree at ``base_commit`` is extracted from a bare mirror, indexed
once into a fresh contextos workspace, and queried with the problem statement by every system:

* ``bm25`` — whole-file BM25 (``bm25s``, contextos's ``code_tokens`` for corpus and query, path
  prepended to the text, test files excluded) over the files contextos indexed, or over a walk
  of the tree when no contextos system runs;
* ``contextos`` / ``contextos-lexical`` / ``contextos-dense`` — ``Workspace.search(files=True)``
  in hybrid, lexical and dense mode, sharing one index.

Reported per system: Acc@1/3/5/10 (all gold files in the top k), MRR of the first gold file,
total indexing seconds and query-latency percentiles (indexing excluded). Resolving (or, the
first time, building) the embedding model and one warm-up query per workspace are left out of
both, so lazily loaded state is not billed to whichever mode runs first; the model's load time is
recorded per instance as ``embedder_load_s``. Results are written atomically, with partial
results every ``--save-every`` instances.

Usage::

    python -m benchmarks.localize --instances ../shared/bench/localize/dev.jsonl \\
        --mirrors /work/.mirror --out result.json [--systems bm25,contextos] [--limit 10] \\
        [--repos sympy/sympy] [--work .bench/localize] [--keep-workspaces] [--search-config '{}']

Left out: span-level (function) localization, parallelism, and any scoring of test files.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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
from benchmarks.common.metrics import KS, aggregate, all_gold_rank, first_gold_rank
from benchmarks.common.results import REPO_ROOT, machine_info, source_digest, write_json_atomic
from benchmarks.common.trees import materialise, mirror_path, walk_text_files
from benchmarks.localize.bm25 import BM25_DESCRIPTION, Bm25Files

CONTEXTOS_MODES = {
    "contextos": "hybrid",
    "contextos-lexical": "lexical",
    "contextos-dense": "dense",
}
SYSTEMS = ("contextos", "bm25", "contextos-lexical", "contextos-dense")
WARMUP_QUERY = "warm up the search path"


@dataclass
class Outcome:
    """What one instance produced, per system."""

    ranked: dict[str, list[str]] = field(default_factory=dict)
    index_s: dict[str, float] = field(default_factory=dict)
    query_ms: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def _run_contextos(
    tree: Path, db: Path, systems: list[str], depth: int, query: str, config: Any, out: Outcome
) -> list[str] | None:
    """Index once, query each contextos mode; return the indexed paths (None on index failure)."""
    from contextos.workspace import Workspace

    # --database-url: the index lives in the team database (no db_path), as users' would
    ws = Workspace(tree, db_path=None if os.environ.get("CONTEXTOS_DATABASE_URL") else db)
    try:
        _, out.notes["embedder_load_s"] = _timed(ws.embedder)
        summary, seconds = _timed(ws.index)
        out.notes["contextos_index"] = {
            "files": summary.files_seen,
            "chunks": summary.chunks_total,
            "reported_s": round(summary.seconds, 3),
            "embedder": summary.embedder,
            "warnings": summary.warnings[:5],
        }
        ws.search(WARMUP_QUERY, k=1, files=True, mode="hybrid", config=config)
        for name in systems:
            out.index_s[name] = seconds
            try:
                hits, q_s = _timed(
                    lambda n=name: ws.search(
                        query, k=depth, files=True, mode=CONTEXTOS_MODES[n], config=config
                    )
                )
            except Exception as exc:  # a benchmark records a failing mode and goes on
                out.errors[name] = f"{type(exc).__name__}: {exc}"
                continue
            out.ranked[name] = [h.path for h in hits]
            out.query_ms[name] = q_s * 1000
        return list(ws.indexed_paths())
    finally:
        ws.close()


def _run_bm25(tree: Path, paths: list[str] | None, depth: int, query: str, out: Outcome) -> None:
    def build() -> Bm25Files:
        corpus = paths if paths is not None else walk_text_files(tree)
        return Bm25Files(tree, corpus)

    engine, seconds = _timed(build)
    out.notes["bm25_corpus"] = {
        "source": "contextos-indexed" if paths is not None else "walk",
        "files": len(engine.paths),
    }
    out.index_s["bm25"] = seconds
    ranked, q_s = _timed(lambda: engine.rank(query, depth))
    out.ranked["bm25"] = ranked
    out.query_ms["bm25"] = q_s * 1000


def run_instance(inst: dict[str, Any], args: argparse.Namespace, config: Any) -> Outcome:
    """Extract, index, query every system; per-system failures land in ``Outcome.errors``."""
    with instance_lock(args.work, inst["instance_id"]):
        return _run_instance(inst, args, config)


def _run_instance(inst: dict[str, Any], args: argparse.Namespace, config: Any) -> Outcome:
    out = Outcome()
    iid = inst["instance_id"]
    tree = args.work / "trees" / iid
    db = args.work / "ws" / f"{iid}.db"
    extraction, extract_s = _timed(
        lambda: materialise(mirror_path(args.mirrors, inst["repo"]), inst["base_commit"], tree)
    )
    created = extraction.created
    out.notes["reused_tree"] = not created
    out.notes["extract_s"] = round(extract_s, 2)
    if extraction.missing:
        out.notes["missing_blobs"] = extraction.missing
    if created:
        remove_db(db)
    try:
        wanted = [s for s in args.systems if s in CONTEXTOS_MODES]
        paths: list[str] | None = None
        if wanted:
            db.parent.mkdir(parents=True, exist_ok=True)
            try:
                query = inst["problem_statement"]
                paths = _run_contextos(tree, db, wanted, args.depth, query, config, out)
            except Exception as exc:  # index failed: every contextos system misses this one
                for name in wanted:
                    out.errors.setdefault(name, f"{type(exc).__name__}: {exc}")
        if "bm25" in args.systems:
            try:
                _run_bm25(tree, paths, args.depth, inst["problem_statement"], out)
            except Exception as exc:
                out.errors["bm25"] = f"{type(exc).__name__}: {exc}"
    finally:
        if created and not args.keep_workspaces:
            shutil.rmtree(tree, ignore_errors=True)
            remove_db(db)
    return out


def instance_record(inst: dict[str, Any], out: Outcome, systems: list[str]) -> dict[str, Any]:
    """The per-instance JSON row; ranks are all-gold ranks, first_ranks feed MRR."""
    gold = inst["gold_files"]
    return {
        "instance_id": inst["instance_id"],
        "repo": inst["repo"],
        "split": inst.get("split"),
        "gold_files": gold,
        "ranks": {s: all_gold_rank(out.ranked.get(s, []), gold) for s in systems},
        "first_ranks": {s: first_gold_rank(out.ranked.get(s, []), gold) for s in systems},
        "top5": {s: out.ranked.get(s, [])[:5] for s in systems},
        "index_s": {s: round(v, 3) for s, v in out.index_s.items()},
        "query_ms": {s: round(v, 2) for s, v in out.query_ms.items()},
        "errors": out.errors,
        **out.notes,
    }


def build_report(
    rows: list[dict[str, Any]], systems: list[str], meta: dict[str, Any], partial: bool
) -> dict[str, Any]:
    splits = sorted({r["split"] for r in rows if r.get("split")})
    return {
        "n": len(rows),
        "partial": partial,
        "systems": aggregate(rows, systems),
        "systems_by_split": {
            sp: aggregate([r for r in rows if r.get("split") == sp], systems) for sp in splits
        },
        "per_instance": rows,
        **meta,
    }


def localize_machine() -> dict[str, Any]:
    """``machine_info`` plus a digest of the code tokeniser both contextos and BM25 use."""
    tokenizer = REPO_ROOT / "src" / "contextos" / "retrieval" / "tokenize.py"
    return {**machine_info(), "tokenize_py_sha256": source_digest([tokenizer])}


def print_table(report: dict[str, Any], systems: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    columns = {f"acc@{k}": f"@{k}" for k in KS} | {
        "mrr": "MRR",
        "index_s_total": "index s",
        "query_ms_p50": "p50 ms",
        "query_ms_p95": "p95 ms",
        "errors": "err",
    }
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 110)
    for label, figures in [("all", report["systems"]), *report["systems_by_split"].items()]:
        n = next(iter(figures.values()))["n"] if figures else 0
        table = Table(title=f"localization — {label} (n={n})")
        table.add_column("system", no_wrap=True)
        for header in columns.values():
            table.add_column(header, justify="right")
        for s in systems:
            table.add_row(s, *(str(figures[s][key]) for key in columns))
        console.print(table)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.localize", description=__doc__.split("\n\n")[0]
    )
    add_instance_args(p, SYSTEMS)
    p.add_argument("--keep-workspaces", action="store_true", help="keep and reuse trees and DBs")
    p.add_argument("--depth", type=int, default=50, help="files retrieved per query (MRR cutoff)")
    p.add_argument(
        "--database-url",
        default=None,
        help="keep the contextos indexes in this PostgreSQL (a fresh schema prefix per run)",
    )
    return check_instance_args(p, p.parse_args(argv), SYSTEMS)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ["CONTEXTOS_HOME"] = str(args.work / "home")
    if args.database_url:
        os.environ["CONTEXTOS_DATABASE_URL"] = args.database_url
        os.environ["CONTEXTOS_DATABASE_SCHEMA"] = f"localize_{int(time.time())}"
    config = load_search_config(args.search_config)
    instances = load_instances(args.instances, args.repos, args.limit)
    meta = {
        "config": {
            "instances": str(args.instances),
            "mirrors": str(args.mirrors),
            "systems": args.systems,
            "limit": args.limit,
            "repos": args.repos,
            "work": str(args.work),
            "keep_workspaces": args.keep_workspaces,
            "depth": args.depth,
            "database": "postgresql" if args.database_url else "sqlite",
            "search_config": dataclasses.asdict(config) if config is not None else None,
            "bm25": BM25_DESCRIPTION,
        },
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": localize_machine(),
    }
    rows: list[dict[str, Any]] = []
    start = time.perf_counter()
    try:
        for i, inst in enumerate(instances, start=1):
            t0 = time.perf_counter()
            try:
                out = run_instance(inst, args, config)
            except Exception as exc:  # extraction failed: every system misses this instance
                out = Outcome(errors={s: f"{type(exc).__name__}: {exc}" for s in args.systems})
            rows.append(instance_record(inst, out, args.systems))
            ranks = " ".join(f"{s}={rows[-1]['ranks'][s]}" for s in args.systems)
            err = f" errors={sorted(out.errors)}" if out.errors else ""
            print(
                f"[{i}/{len(instances)}] {inst['instance_id']} ({inst['repo']}) "
                f"{time.perf_counter() - t0:.1f}s, total {time.perf_counter() - start:.0f}s "
                f"| {ranks}{err}",
                file=sys.stderr,
                flush=True,
            )
            if args.save_every and i % args.save_every == 0 and i < len(instances):
                write_json_atomic(args.out, build_report(rows, args.systems, meta, partial=True))
    finally:
        meta["seconds_total"] = round(time.perf_counter() - start, 1)
        report = build_report(rows, args.systems, meta, partial=len(rows) < len(instances))
        write_json_atomic(args.out, report)
    print_table(report, args.systems)
    return 0

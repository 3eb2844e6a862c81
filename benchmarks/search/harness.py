"""``python -m benchmarks.search``: every system over the same checkouts, one result file.

Systems: ``contextos-hybrid``/``-lexical``/``-dense`` (one index per repository, kept in
``--work``), ``semble-hybrid``/``semble-bm25`` (one semble index per repository, rebuilt each
run) and ``bm25`` (bm25s over semble's chunks). A system that cannot run at all (semble not
installed) is recorded under ``skipped`` with the reason. Per system: NDCG@10 overall, by
category, language and repository (``benchmarks.search.metric``), median index seconds, query
p50/p95 ms, distinct files in the top 10; per query: each system's NDCG and top 10.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common.results import machine_info, write_json_atomic
from benchmarks.search import bm25_chunks, contextos_system, semble_system
from benchmarks.search.data import (
    DEFAULT_MIRRORS,
    load_queries,
    load_repos,
    select_repos,
    split_of,
)
from benchmarks.search.evaluate import RepoRun, evaluate_system

SYSTEMS = (
    "contextos-hybrid",
    "contextos-lexical",
    "contextos-dense",
    "semble-bm25",
    "semble-hybrid",
    "bm25",
)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.search", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--queries", type=Path, required=True, help="queries JSONL (dev.jsonl)")
    p.add_argument("--repos", type=Path, required=True, help="repositories JSON (repos-dev.json)")
    p.add_argument("--mirrors", type=Path, default=DEFAULT_MIRRORS, help="owner+name/repo mirrors")
    p.add_argument("--out", type=Path, required=True, help="result JSON path")
    p.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated systems")
    p.add_argument("--split", choices=("tune", "report", "all"), default="all", help="repo half")
    p.add_argument("--work", type=Path, default=Path(".bench/search"), help="kept checkouts, DBs")
    p.add_argument("--home", type=Path, default=None, help="CONTEXTOS_HOME (default WORK/home)")
    p.add_argument("--repo-filter", default=None, help="comma-separated repository names")
    p.add_argument("--search-config", default=None, help="SearchConfig as JSON text or file")
    p.add_argument("--semble-site", type=Path, default=semble_system.DEFAULT_SITE,
                   help="directory semble was pip-installed into with --target")  # fmt: skip
    p.add_argument(
        "--no-index-timing",
        action="store_true",
        help="do not re-measure reused contextos indexes (index time reported null)",
    )
    args = p.parse_args(argv)
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = sorted(set(args.systems) - set(SYSTEMS))
    if unknown:
        p.error(f"unknown systems {unknown}; choose from {', '.join(SYSTEMS)}")
    args.repo_filter = (
        [r.strip() for r in args.repo_filter.split(",")] if args.repo_filter else None
    )
    args.work = args.work.resolve()
    return args


def run_systems(
    args: argparse.Namespace, repos: list[dict[str, Any]], queries: list[dict[str, Any]]
) -> tuple[dict[str, dict[str, RepoRun]], dict[str, str], dict[str, Any]]:
    """Every requested system's runs, the systems skipped with why, and notes."""
    from benchmarks.common.instances import load_search_config

    runs: dict[str, dict[str, RepoRun]] = {}
    skipped: dict[str, str] = {}
    notes: dict[str, Any] = {}
    config = load_search_config(args.search_config)
    notes["search_config"] = dataclasses.asdict(config) if config is not None else None
    contextos_system.use_bench_home(args.work, args.home)
    model_dir = contextos_system.bench_model_dir()
    notes["model_dir"] = str(model_dir)
    wanted = [s for s in args.systems if s in contextos_system.MODES]
    if wanted:
        by_mode = contextos_system.contextos_runs(
            repos,
            queries,
            args.work,
            [contextos_system.MODES[s] for s in wanted],
            config,
            mirrors=args.mirrors,
            home=args.home,
            index_timing=not args.no_index_timing,
            log=_log,
        )
        runs.update({s: by_mode[contextos_system.MODES[s]] for s in wanted})
    semble_wanted = [s for s in args.systems if s in semble_system.MODES]
    semble_ok = True
    try:
        notes["semble_version"] = semble_system.import_semble(args.semble_site).__version__
    except semble_system.SembleUnavailable as exc:
        semble_ok = False
        skipped.update({s: str(exc) for s in semble_wanted})
    if semble_wanted and semble_ok:
        runs.update(
            semble_system.semble_runs(
                repos,
                queries,
                args.work,
                semble_wanted,
                model_dir,
                mirrors=args.mirrors,
                site=args.semble_site,
                log=_log,
            )
        )
    if "bm25" in args.systems:
        runs["bm25"] = bm25_chunks.bm25_runs(
            repos, queries, args.work, use_semble=semble_ok, mirrors=args.mirrors, log=_log
        )
        notes["bm25_chunker"] = "semble" if semble_ok else "windows-50/40"
    return runs, skipped, notes


def build_report(
    systems: dict[str, dict[str, Any]],
    repos: list[dict[str, Any]],
    queries: list[dict[str, Any]],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Per-system summaries (with tune/report means) and the per-query rows."""
    summary: dict[str, Any] = {}
    for name, figures in systems.items():
        by_repo = figures["ndcg@10_by_repo"]
        halves = {}
        for half in ("tune", "report"):
            values = [v for r, v in by_repo.items() if split_of(r) == half and v is not None]
            halves[half] = round(sum(values) / len(values), 4) if values else None
        summary[name] = {k: v for k, v in figures.items() if k != "per_query"}
        summary[name]["ndcg@10_by_split"] = halves
    names = {r["name"] for r in repos}
    rows = []
    for q in queries:
        if q["repo"] not in names:
            continue
        rows.append(
            {
                "qid": q["qid"],
                "repo": q["repo"],
                "category": q["category"],
                "language": q["language"],
                "query": q["query"],
                "systems": {n: f["per_query"].get(q["qid"]) for n, f in systems.items()},
            }
        )
    return summary, rows


def print_table(summary: dict[str, Any]) -> None:
    cols = ["ndcg@10", "semantic", "architecture", "symbol", "tune", "report", "index_s", "p50 ms",
            "p95 ms", "files"]  # fmt: skip
    print("| system | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for name, f in summary.items():
        cat = f["ndcg@10_by_category"]
        values = [
            f["ndcg@10"],
            cat.get("semantic"),
            cat.get("architecture"),
            cat.get("symbol"),
            f["ndcg@10_by_split"]["tune"],
            f["ndcg@10_by_split"]["report"],
            f["index_s_median"],
            f["query_ms_p50"],
            f["query_ms_p95"],
            f["distinct_files_top10_mean"],
        ]
        print(f"| {name} | " + " | ".join("-" if v is None else str(v) for v in values) + " |")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    all_repos = load_repos(args.repos)
    repos = select_repos(all_repos, args.split, args.repo_filter)
    queries = [q for q in load_queries(args.queries) if q["repo"] in {r["name"] for r in repos}]
    _log(f"split {args.split}: {len(repos)} repositories: {', '.join(r['name'] for r in repos)}")
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    runs, skipped, notes = run_systems(args, repos, queries)
    systems = {
        name: evaluate_system(runs[name], queries, repos) for name in args.systems if name in runs
    }
    summary, rows = build_report(systems, repos, queries)
    report = {
        "systems": summary,
        "skipped": skipped,
        "split": args.split,
        "repos": [r["name"] for r in repos],
        "queries": rows,
        "config": {
            "queries": str(args.queries),
            "repos": str(args.repos),
            "mirrors": str(args.mirrors),
            "work": str(args.work),
            "systems": args.systems,
            "repo_filter": args.repo_filter,
            "index_timing": not args.no_index_timing,
            **notes,
        },
        "date": started,
        "seconds_total": round(time.perf_counter() - t0, 1),
        "machine": machine_info(),
    }
    write_json_atomic(args.out, report)
    print_table(summary)
    return 0

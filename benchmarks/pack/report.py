"""The packing benchmark's figures: percentages per system and budget, targets, the table.

A figure is the percentage (one decimal) of *all* instances whose gold was inside the pack; an
instance a system failed on counts as a miss. ``used_pct`` is the mean share of the budget the
system's pack used. Left out: confidence intervals (n is small; differences under ~5 points on
162 instances are within noise).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["BUDGETS", "aggregate", "build_report", "print_table", "targets"]

BUDGETS = {"2k": 2000, "4k": 4000, "8k": 8000, "16k": 16000}


def aggregate(rows: list[dict[str, Any]], systems: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    n = len(rows)
    for name in systems:
        got = [r["systems"].get(name) for r in rows]
        figures: dict[str, Any] = {"n": n}
        for label, budget in BUDGETS.items():
            hit = sum(1 for g in got if g and g[label]["gold"])
            used = [g[label]["used"] / budget for g in got if g]
            figures[f"gold_in_budget@{label}"] = round(100 * hit / n, 1) if n else 0.0
            figures[f"used_pct@{label}"] = round(100 * sum(used) / len(used), 1) if used else 0.0
        figures["errors"] = sum(1 for g in got if g is None)
        figures["seconds_total"] = round(sum(r["seconds"].get(name, 0.0) for r in rows), 1)
        out[name] = figures
    return out


def targets(figures: dict[str, Any]) -> dict[str, Any]:
    """At 4k and 8k: contextos ≥ bm25-files + 15 points and ≥ repo-map."""
    out: dict[str, Any] = {}
    if not {"contextos", "bm25-files", "repo-map"} <= set(figures):
        return out
    for label in ("4k", "8k"):
        key = f"gold_in_budget@{label}"
        ours = figures["contextos"][key]
        out[label] = {
            "contextos_minus_bm25": round(ours - figures["bm25-files"][key], 1),
            "vs_bm25_met": ours >= figures["bm25-files"][key] + 15,
            "vs_repo_map_met": ours >= figures["repo-map"][key],
        }
    return out


def build_report(rows: list[dict[str, Any]], meta: dict[str, Any], partial: bool) -> dict[str, Any]:
    systems = meta["config"]["systems"]
    figures = aggregate(rows, systems)
    splits = sorted({r["split"] for r in rows if r.get("split")})
    return {
        "n": len(rows),
        "partial": partial,
        "units": "percent",
        "systems": figures,
        "systems_by_split": {
            s: aggregate([r for r in rows if r.get("split") == s], systems) for s in splits
        },
        "targets": targets(figures),
        **meta,
        "per_instance": rows,
    }


def print_table(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 110)
    groups = [("all", report["systems"]), *report["systems_by_split"].items()]
    for label, figures in groups:
        n = next(iter(figures.values()))["n"] if figures else 0
        table = Table(title=f"gold-in-budget, % of instances — {label} (n={n})")
        table.add_column("system", no_wrap=True)
        for b in BUDGETS:
            table.add_column(f"@{b}", justify="right")
        table.add_column("used % @2k/16k", justify="right")
        table.add_column("s", justify="right")
        for name, f in figures.items():
            cells = [str(f[f"gold_in_budget@{b}"]) for b in BUDGETS]
            used = f"{f['used_pct@2k']}/{f['used_pct@16k']}"
            table.add_row(name, *cells, used, str(f["seconds_total"]))
        console.print(table)
    for key in ("pack_speed", "pack_speed_primitive"):
        speed = report.get(key) or {}
        if speed:
            console.print(
                f"{speed.get('path', 'pack')}: {speed['items']} items → {speed['budget']} "
                f"tokens, p50 {speed['pack_ms_p50']} ms, p95 {speed['pack_ms_p95']} ms "
                "(target < 100)"
            )
    console.print(f"targets: {report['targets']}  total {report.get('seconds_total')} s")

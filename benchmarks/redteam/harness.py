"""Run the attack corpus (``benchmarks.redteam.cases``) and write the result JSON and, with
``--docs``, ``docs/security.md``.

    python -m benchmarks.redteam --out FILE [--docs docs/security.md] [--fast] [--only ID,...]

Each case runs in turn on one ``Lab``; a case that raises is recorded as ``wrong`` with the
harness's own traceback summarised (a bug in the attack, not the product), and processes a case
leaves behind are killed before the next one. Left out: running cases in parallel (they time
each other out on a small machine).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from benchmarks.common.results import machine_info, write_json_atomic
from benchmarks.redteam.cases import ALL
from benchmarks.redteam.false_positives import redaction_false_positives
from benchmarks.redteam.lab import Lab
from benchmarks.redteam.report import area_table, security_markdown, tally
from benchmarks.redteam.verdict import TARGETS, Case, Verdict, worst

__all__ = ["main", "run_cases", "select"]


def select(fast: bool = False, only: list[str] | None = None) -> list[Case]:
    """The cases to run: all, the fast subset, or those whose id starts with one of ``only``."""
    cases = [c for c in ALL if c.fast] if fast else list(ALL)
    if only:
        cases = [c for c in cases if any(c.id.startswith(o) for o in only)]
    return cases


def _server_tracebacks(lab: Lab, marks: dict[int, int]) -> Verdict | None:
    """A traceback some MCP server wrote to stderr since ``marks`` (its stderr length then)."""
    for session in lab.sessions:
        new = session.stderr()[marks.get(id(session), 0) :]
        if "Traceback (most recent call last)" in new:
            last = [line for line in new.splitlines() if line.strip()][-1].strip()
            return Verdict("traceback", f"MCP server stderr: {last[:200]}")
    return None


def _one(lab: Lab, case: Case) -> Verdict:
    marks = {id(s): len(s.stderr()) for s in lab.sessions}
    try:
        verdict = case.run(lab)
    except Exception as exc:  # a broken attack must not stop the others; it is reported
        where = traceback.extract_tb(exc.__traceback__)[-1]
        verdict = Verdict(
            "wrong",
            f"harness error {type(exc).__name__}: {exc} "
            f"({Path(where.filename).name}:{where.lineno})",
        )
    server = _server_tracebacks(lab, marks)
    return worst([verdict, server]) if server else verdict


def run_cases(cases: list[Case], log: Any = None) -> list[dict[str, Any]]:
    """Run ``cases`` in order; one result dict per case (id, area, title, outcome, evidence,
    seconds)."""
    results = []
    with Lab() as lab:
        for case in cases:
            started = time.perf_counter()
            verdict = _one(lab, case)
            strays = lab.kill_strays()
            evidence = lab.mask(verdict.evidence).replace(str(lab.root), "<tmp>")
            if strays:
                evidence += f" [killed {len(strays)} leftover processes]"
            results.append(
                {
                    "id": case.id,
                    "area": case.area,
                    "title": case.title,
                    "outcome": verdict.outcome,
                    "evidence": evidence,
                    "seconds": round(time.perf_counter() - started, 2),
                }
            )
            if log:
                print(f"{verdict.outcome:9} {case.id}  {evidence[:150]}", file=log, flush=True)
    return results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.redteam",
        description="Attack contextos through its CLI and MCP server; report per area.",
    )
    parser.add_argument("--out", type=Path, required=True, help="result JSON file")
    parser.add_argument("--docs", type=Path, help="also write this markdown page")
    parser.add_argument("--fast", action="store_true", help="only the subset CI runs")
    parser.add_argument("--only", default="", help="comma-separated case id prefixes")
    parser.add_argument(
        "--mirrors",
        type=Path,
        help="bare git mirrors (DIR/owner+name/repo) for the redaction false-positive rate",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    cases = select(args.fast, [o for o in args.only.split(",") if o])
    results = run_cases(cases, log=sys.stderr)
    doc: dict[str, Any] = {
        "benchmark": "redteam",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "config": {
            "fast": args.fast,
            "only": args.only,
            "mirrors": str(args.mirrors) if args.mirrors else None,
        },
        "targets": {t: 0 for t in TARGETS},
        "summary": tally(results),
        "redaction_false_positives": redaction_false_positives(
            ["--mirrors", str(args.mirrors)] if args.mirrors else []
        ),
        "cases": results,
    }
    doc["seconds"] = round(time.perf_counter() - started, 1)
    write_json_atomic(args.out, doc)
    if args.docs:
        args.docs.write_text(security_markdown(doc), encoding="utf-8")
    print(area_table(results))
    return 0

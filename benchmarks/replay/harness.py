"""Replay real agent runs step by step and score each system's window (issue 12).

At every assistant step ``t`` of a trajectory each system builds a window from the messages
before ``t`` within a budget (o200k tokens of ``message_text``; the head, system + task, always
in and counted):

* ``contextos`` — ``contextos.agent.window.WindowBuilder.window_for``, exactly as the agent loop
  calls it every step (one builder per trajectory and budget, fed the growing history);
* ``truncate`` — the head, then whole messages newest first while they fit;
* ``mask`` — tool outputs older than the last 10 stubbed (``mask_observations``), then truncate.

Scored with ``benchmarks.replay.facts``: line_recall and fact_recall pooled over all needed facts
of all steps; tokens sent summed over all steps (and as a share of sending the full history every
step); window build time p50/p95 per step. ``contextos`` is also reported per half of the
manifest (``tune``, the half its knobs were tuned on, and ``report``).

    python -m benchmarks.replay --manifest ../shared/bench/replay/dev.jsonl \\
        --mirrors /work/.mirror --budgets 4000,8000,16000 --out r.json [--limit N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.common.metrics import percentile
from benchmarks.common.results import machine_info, write_json_atomic
from benchmarks.replay.baselines import masked, stubs, truncate
from benchmarks.replay.data import Trajectory, load_manifest, load_trajectory
from benchmarks.replay.facts import call_arguments, needed_facts, recall
from contextos.agent.window import WindowBuilder, message_text
from contextos.context.counting import TokenCounter, count_all
from contextos.tokens import ExactCounter

SYSTEMS = ("contextos", "truncate", "mask")
HEAD = 2


class Tally:
    """Sums for one system (or one half): facts, hits, tokens sent, build times."""

    def __init__(self, budgets: list[int]) -> None:
        self.budgets = budgets
        self.facts = 0
        self.lines = dict.fromkeys(budgets, 0)
        self.strings = dict.fromkeys(budgets, 0)
        self.sent = dict.fromkeys(budgets, 0)
        self.ms: list[float] = []

    def add(self, budget: int, n: int, hits: tuple[int, int], tokens: int, ms: float) -> None:
        self.lines[budget] += hits[0]
        self.strings[budget] += hits[1]
        self.sent[budget] += tokens
        self.ms.append(ms)

    def figures(self, full: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for b in self.budgets:
            out[f"line_recall@{b}"] = round(self.lines[b] / self.facts, 4) if self.facts else None
            out[f"fact_recall@{b}"] = round(self.strings[b] / self.facts, 4) if self.facts else None
        for b in self.budgets:
            out[f"tokens_sent@{b}"] = self.sent[b]
            out[f"tokens_share@{b}"] = round(self.sent[b] / full, 4) if full else None
        out["build_ms_p50"] = round(percentile(self.ms, 50), 3) if self.ms else None
        out["build_ms_p95"] = round(percentile(self.ms, 95), 3) if self.ms else None
        out["facts"] = self.facts
        return out


def steps(traj: Trajectory) -> Iterator[int]:
    """Indices of the assistant steps that have history beyond the head."""
    return (t for t, m in enumerate(traj.messages) if t >= HEAD and m["role"] == "assistant")


def replay(
    traj: Trajectory, budgets: list[int], counter: TokenCounter, tallies: dict[str, Tally]
) -> tuple[int, int]:
    """Score every step of ``traj`` into ``tallies``; returns (steps, full-history tokens)."""
    msgs = traj.messages
    texts = [message_text(m) for m in msgs]
    tokens = count_all(counter, texts)
    stub = [message_text({"role": "tool", "content": s}) if s else None for s in stubs(msgs)]
    stub_tokens = count_all(counter, [s or "" for s in stub])
    roles = [m["role"] for m in msgs]
    task = "\n".join(texts[:HEAD])
    builders = {b: WindowBuilder(counter, keep_head=HEAD) for b in budgets}
    n_steps = full = 0
    for t in steps(traj):
        n_steps += 1
        full += sum(tokens[:t])
        facts = needed_facts(call_arguments(msgs[t]), task, "\n".join(texts[:t]))
        for tally in tallies.values():
            tally.facts += len(facts)
        for b in budgets:
            start = time.perf_counter()
            window = builders[b].window_for(msgs[:t], b)
            ms = (time.perf_counter() - start) * 1000
            tallies["contextos"].add(b, len(facts), recall(facts, window.text), window.tokens, ms)
            start = time.perf_counter()
            text, used = truncate(texts[:t], tokens[:t], b, HEAD)
            ms = (time.perf_counter() - start) * 1000
            tallies["truncate"].add(b, len(facts), recall(facts, text), used, ms)
            start = time.perf_counter()
            hide = masked(roles, t)
            m_texts = [stub[i] if i in hide else texts[i] for i in range(t)]
            m_tokens = [stub_tokens[i] if i in hide else tokens[i] for i in range(t)]
            text, used = truncate(m_texts, m_tokens, b, HEAD)  # type: ignore[arg-type]
            ms = (time.perf_counter() - start) * 1000
            tallies["mask"].add(b, len(facts), recall(facts, text), used, ms)
    return n_steps, full


def run(args: argparse.Namespace) -> dict[str, Any]:
    from rich.progress import Progress

    budgets = [int(b) for b in args.budgets.split(",")]
    rows = load_manifest(args.manifest, args.limit)
    counter = ExactCounter("o200k_base")
    tallies = {s: Tally(budgets) for s in SYSTEMS}
    halves = {h: {s: Tally(budgets) for s in SYSTEMS} for h in ("tune", "report")}
    n_steps = full = 0
    half_full = {"tune": 0, "report": 0}
    half_counts = {"tune": [0, 0], "report": [0, 0]}
    with Progress(transient=True) as progress:
        task = progress.add_task("replaying", total=len(rows))
        for row in rows:
            traj = load_trajectory(args.mirrors, row)
            part = halves[traj.half]
            s, f = replay(traj, budgets, counter, part)
            n_steps, full = n_steps + s, full + f
            half_full[traj.half] += f
            half_counts[traj.half][0] += 1
            half_counts[traj.half][1] += s
            progress.advance(task)
    for name in SYSTEMS:
        _merge(tallies[name], [halves[h][name] for h in halves])
    return {
        "trajectories": len(rows),
        "steps": n_steps,
        "full_history_tokens": full,
        "budgets": budgets,
        "systems": {s: tallies[s].figures(full) for s in SYSTEMS},
        "halves": {
            h: {
                "trajectories": half_counts[h][0],
                "steps": half_counts[h][1],
                "full_history_tokens": half_full[h],
                "systems": {s: halves[h][s].figures(half_full[h]) for s in SYSTEMS},
            }
            for h in halves
        },
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
    }


def _merge(into: Tally, parts: list[Tally]) -> None:
    for part in parts:
        into.facts += part.facts
        into.ms += part.ms
        for b in into.budgets:
            into.lines[b] += part.lines[b]
            into.strings[b] += part.strings[b]
            into.sent[b] += part.sent[b]


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"replay: {result['trajectories']} runs, {result['steps']} steps")
    for col in ("system", "budget", "line_recall", "fact_recall", "tokens sent", "share"):
        table.add_column(col)
    for name, fig in result["systems"].items():
        for b in result["budgets"]:
            table.add_row(
                name,
                str(b),
                str(fig[f"line_recall@{b}"]),
                str(fig[f"fact_recall@{b}"]),
                f"{fig[f'tokens_sent@{b}']:,}",
                str(fig[f"tokens_share@{b}"]),
            )
        table.add_row(name, "build ms", f"p50 {fig['build_ms_p50']}", f"p95 {fig['build_ms_p95']}")
    Console(stderr=True).print(table)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.replay",
        description="Replay agent runs step by step; score each system's window of every step.",
    )
    parser.add_argument("--manifest", type=Path, required=True, help="replay dev.jsonl")
    parser.add_argument("--mirrors", type=Path, required=True, help="MIRRORS/owner+name/repo")
    parser.add_argument("--budgets", default="4000,8000,16000", help="comma-separated tokens")
    parser.add_argument("--out", type=Path, required=True, help="result JSON to write")
    parser.add_argument("--limit", type=int, default=None, help="first N trajectories only")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    write_json_atomic(args.out, result)
    print_table(result)
    return 0

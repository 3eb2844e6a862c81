"""Recall latency of the memory engine over N synthetic memories, without the model step.

Memories are generated from templates with a fixed seed (people, preferences, tools, places,
events; every text distinct), ingested with ``MemoryStore.add_many`` and recalled with
``k=8`` for questions about random memories. Systems, in the same run over the same database:

* ``contextos`` — ``MemoryStore.recall`` with the default embedder (``embedder = "auto"``,
  resolved under ``$CONTEXTOS_HOME``; built once if needed): BM25 + vectors + RRF;
* ``contextos_lexical`` — the same store opened without an embedder;
* ``sqlite_fts5`` — the naive baseline: FTS5 ``MATCH`` with ``ORDER BY bm25()`` on the same
  token table, no validity or scope filter.

Reported per system: recall p50/p95/max in ms (after one warm-up query, which pays the index
build, reported separately) and hit@8 of the memory each question was written from. Target:
contextos p95 < 50 ms at N = 10,000.

    CONTEXTOS_HOME=/path/with/models python -m benchmarks.locomo.memory_recall --n 10000 \\
        --out r.json
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from contextos.embed import resolve_embedder
from contextos.memory import MemoryStore
from contextos.memory.lexical import memory_tokens
from contextos.settings import Settings

TARGET_P95_MS = 50.0
NAMES = [
    f"{a}{b}"
    for a in ("Al", "Be", "Ca", "Da", "El", "Fi", "Gu", "Ha", "Io", "Jo")
    for b in ("ice", "rnd", "rlo", "vid", "ena", "ona", "stav", "nna", "nes", "nas")
]
TOOLS = [
    "pytest",
    "ruff",
    "mypy",
    "docker",
    "nix",
    "uv",
    "poetry",
    "pnpm",
    "vim",
    "emacs",
    "helix",
    "tmux",
    "zsh",
    "fish",
    "postgres",
    "sqlite",
    "redis",
    "kafka",
    "terraform",
    "kubernetes",
    "rust",
    "go",
    "typescript",
    "react",
    "svelte",
    "django",
    "fastapi",
]
LIKES = [
    "prefers",
    "dislikes",
    "always uses",
    "never uses",
    "recently switched to",
    "complains about",
    "wants to learn",
    "teaches a course on",
]
PLACES = ["Paris", "Berlin", "Lisbon", "Tokyo", "Toronto", "Nairobi", "Lima", "Oslo", "Seoul"]
EVENTS = [
    "ran a marathon",
    "adopted a cat",
    "started pottery classes",
    "moved flats",
    "visited family",
    "gave a conference talk",
    "painted a sunrise",
    "joined a choir",
    "went camping by the lake",
    "finished a novel",
    "planted tomatoes",
]


def synthetic(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    seen: set[str] = set()
    items: list[dict[str, Any]] = []
    while len(items) < n:
        who = rng.choice(NAMES)
        if rng.random() < 0.5:
            text = f"{who} {rng.choice(LIKES)} {rng.choice(TOOLS)} for {rng.choice(TOOLS)} work"
        else:
            text = f"{who} {rng.choice(EVENTS)} in {rng.choice(PLACES)} with {rng.choice(NAMES)}"
        text += f" (note {len(items) % 97})"
        if text in seen:
            continue
        seen.add(text)
        when = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 700))
        items.append(
            {"text": text, "tag": "bench", "source": f"s:{len(items)}", "valid_from": when}
        )
    return items


def questions(items: list[dict[str, Any]], count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed + 1)
    out = []
    for item in rng.sample(items, count):
        words = item["text"].split(" (note")[0].split()
        out.append((f"What about {words[0]} and {' '.join(words[-3:])}?", item["source"]))
    return out


def timed(recall: Callable[[str], list[str]], qs: list[tuple[str, str]]) -> dict[str, float]:
    started = time.perf_counter()
    recall(qs[0][0])
    warmup = (time.perf_counter() - started) * 1000
    times: list[float] = []
    hits = 0
    for query, gold in qs:
        t0 = time.perf_counter()
        found = recall(query)
        times.append((time.perf_counter() - t0) * 1000)
        hits += gold in found
    times.sort()
    return {
        "recall_ms_p50": round(statistics.median(times), 3),
        "recall_ms_p95": round(times[int(0.95 * (len(times) - 1))], 3),
        "recall_ms_max": round(times[-1], 3),
        "first_query_ms": round(warmup, 1),
        "hit@8": round(hits / len(qs), 4),
    }


def fts5_recall(db: Path) -> Callable[[str], list[str]]:
    conn = sqlite3.connect(db)

    def recall(query: str) -> list[str]:
        terms = " OR ".join(f'"{t}"' for t in dict.fromkeys(memory_tokens(query)))
        rows = conn.execute(
            "SELECT m.source FROM memories_fts f JOIN memories m ON m.seq = f.rowid"
            " WHERE memories_fts MATCH ? ORDER BY bm25(memories_fts) LIMIT 8",
            (terms,),
        )
        return [r[0] for r in rows]

    return recall


def store_recall(store: MemoryStore) -> Callable[[str], list[str]]:
    return lambda q: [h.memory.source or "" for h in store.recall(q, k=8)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.locomo.memory_recall", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--n", type=int, default=10_000, help="number of memories")
    parser.add_argument("--queries", type=int, default=500, help="timed recalls per system")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    args = parser.parse_args(argv)

    embedder, warnings = resolve_embedder(Settings())
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    items = synthetic(args.n, args.seed)
    qs = questions(items, min(args.queries, args.n), args.seed)
    systems: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "memory.db"
        with MemoryStore.open(db, embedder=embedder) as store:
            t0 = time.perf_counter()
            store.add_many(items)
            ingest_s = time.perf_counter() - t0
            systems["contextos"] = timed(store_recall(store), qs)
        with MemoryStore.open(db) as lexical:
            systems["contextos_lexical"] = timed(store_recall(lexical), qs)
        systems["sqlite_fts5"] = timed(fts5_recall(db), qs)
    result = {
        "n": args.n,
        "queries": len(qs),
        "k": 8,
        "embedder": embedder.name if embedder else None,
        "ingest_s": round(ingest_s, 2),
        "target_p95_ms": TARGET_P95_MS,
        "systems": systems,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{args.n} memories, embedder {result['embedder']}, ingest {ingest_s:.1f} s")
    print(f"{'system':<20}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}{'first ms':>10}{'hit@8':>8}")
    for name, row in systems.items():
        print(
            f"{name:<20}{row['recall_ms_p50']:>10.2f}{row['recall_ms_p95']:>10.2f}"
            f"{row['recall_ms_max']:>10.2f}{row['first_query_ms']:>10.1f}{row['hit@8']:>8.3f}"
        )
    p95 = systems["contextos"]["recall_ms_p95"]
    print(f"contextos recall p95 {p95:.2f} ms (target < {TARGET_P95_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

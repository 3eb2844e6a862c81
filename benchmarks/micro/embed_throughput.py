"""Throughput of the default embedder on real code: chunks per second.

Chunks are 40-line windows of the Python files installed in this interpreter's site-packages,
sampled with a fixed seed. The embedder is what ``embedder = "auto"`` resolves to (built once
if needed, progress on stderr); it is called the way the indexer calls it, in batches of
``embed_batch_size``. Writes JSON and prints a table. The target is >= 1,000 chunks/s.

    python -m benchmarks.micro.embed_throughput --out embed_throughput.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import sysconfig
import time
from pathlib import Path

from contextos.embed import resolve_embedder
from contextos.settings import Settings

TARGET = 1000.0


def code_chunks(count: int, lines: int, seed: int = 0) -> list[str]:
    """``count`` non-blank ``lines``-line windows of installed Python files, sampled."""
    root = Path(sysconfig.get_paths()["purelib"])
    windows: list[str] = []
    for path in sorted(root.rglob("*.py")):
        try:
            text = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for start in range(0, len(text), lines):
            window = "\n".join(text[start : start + lines])
            if window.strip():
                windows.append(window)
        if len(windows) >= count * 20:
            break
    return random.Random(seed).sample(windows, min(count, len(windows)))


def _progress(stage: str, done: int, total: int) -> None:
    print(f"\r{stage}: {done}/{total}", end="" if done < total else "\n", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.micro.embed_throughput", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--chunks", type=int, default=5000, help="number of chunks")
    parser.add_argument("--lines", type=int, default=40, help="lines per chunk")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over all chunks")
    args = parser.parse_args(argv)

    settings = Settings()
    started = time.perf_counter()
    embedder, warnings = resolve_embedder(settings, progress=_progress)
    resolve_s = time.perf_counter() - started
    if embedder is None:
        print("\n".join(warnings), file=sys.stderr)
        return 1
    chunks = code_chunks(args.chunks, args.lines)
    embedder.embed_batch(chunks[:200])

    rates: list[float] = []
    batch = settings.embed_batch_size
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for i in range(0, len(chunks), batch):
            embedder.embed_batch(chunks[i : i + batch])
        rates.append(len(chunks) / (time.perf_counter() - t0))

    result = {
        "embedder": embedder.name,
        "dim": embedder.dim,
        "chunks": len(chunks),
        "lines_per_chunk": args.lines,
        "mean_chars_per_chunk": round(statistics.fmean(len(c) for c in chunks)),
        "batch_size": batch,
        "chunks_per_s_median": round(statistics.median(rates)),
        "chunks_per_s_best": round(max(rates)),
        "chunks_per_s_runs": [round(r) for r in rates],
        "resolve_s": round(resolve_s, 2),
        "cpu_count": os.cpu_count(),
        "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
        "target_chunks_per_s": TARGET,
        "meets_target": statistics.median(rates) >= TARGET,
        "warnings": warnings,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    rows = [
        ("embedder", result["embedder"]),
        (
            "chunks x lines",
            f"{len(chunks)} x {args.lines} ({result['mean_chars_per_chunk']} chars)",
        ),
        ("chunks/s median", result["chunks_per_s_median"]),
        ("chunks/s best", result["chunks_per_s_best"]),
        ("target", f">= {TARGET:.0f}: {'met' if result['meets_target'] else 'NOT met'}"),
        ("cpus / load avg", f"{result['cpu_count']} / {result['load_avg_1m_at_end']}"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

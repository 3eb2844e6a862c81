"""Token counting throughput on real source text: MB/s on one core, per method and encoding.

The corpus is the Python files installed in this interpreter's site-packages, in path order,
up to ``--mb`` megabytes of UTF-8. The process is pinned to one CPU and every method must give
the same total token count (exactness is checked, not assumed). Methods run round-robin for
``--repeats`` passes; the headline is the median MB/s of CPU time (the work of that one core),
with wall time beside it, because other processes share the machine. Caches start empty on
every pass.

Methods, all over the same bundled ranks:

- ``encode_ordinary``: tiktoken's Rust BPE, one call per file (what ``ExactCounter.count`` does);
- ``encode_ordinary_batch(num_threads=1)``: one batch call over all files;
- ``encode_to_numpy``: the Rust token buffer viewed as numpy, skipping the Python int list;
- ``piece_cache``: split with the encoding's regex in Python, count each distinct piece once;
- ``line_cache``: split at provably safe line boundaries, count each distinct line once;
- ``ExactCounter.count``: the public API, to show it adds no overhead.

The target is >= 10 MB/s for ``ExactCounter.count``.

    python -m benchmarks.micro.tokens_throughput --out tokens_throughput.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import regex
import tiktoken

from contextos.tokens import ENCODINGS, ExactCounter
from contextos.tokens._encodings import load_encoding

TARGET = 10.0
Method = Callable[[list[str]], int]


def source_corpus(max_mb: float) -> list[str]:
    """Installed Python sources, in path order, until ``max_mb`` MB of UTF-8."""
    root = Path(sysconfig.get_paths()["purelib"])
    texts: list[str] = []
    size = 0
    for path in sorted(root.rglob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        texts.append(text)
        size += len(text.encode("utf-8"))
        if size >= max_mb * 1e6:
            break
    return texts


def piece_cache(enc: tiktoken.Encoding) -> Method:
    """Split with the encoding's own regex (in Python), BPE each distinct piece once per pass."""
    pattern = regex.compile(enc._pat_str)

    def count(texts: list[str]) -> int:
        cache: dict[str, int] = {}
        total = 0
        for text in texts:
            for piece in pattern.findall(text):
                n = cache.get(piece)
                if n is None:
                    n = cache[piece] = len(enc.encode_ordinary(piece))
                total += n
        return total

    return count


LINE_BOUNDARY = re.compile(r"(?<=\n)(?=[ \t]+\S|[^\s/])")
"""After a newline that ends its whitespace run and is not followed by ``/``: no o200k or
cl100k piece crosses such a point, so counts of the parts add up to the count of the whole."""


def line_cache(enc: tiktoken.Encoding) -> Method:
    """Split at ``LINE_BOUNDARY`` (mostly one line per part), encode each distinct part once."""

    def count(texts: list[str]) -> int:
        cache: dict[str, int] = {}
        total = 0
        for text in texts:
            for part in LINE_BOUNDARY.split(text):
                n = cache.get(part)
                if n is None:
                    n = cache[part] = len(enc.encode_ordinary(part))
                total += n
        return total

    return count


def methods(name: str) -> dict[str, Method]:
    enc = load_encoding(name)
    counter = ExactCounter(name)
    return {
        "encode_ordinary": lambda ts: sum(len(enc.encode_ordinary(t)) for t in ts),
        "encode_ordinary_batch(num_threads=1)": lambda ts: sum(
            len(ids) for ids in enc.encode_ordinary_batch(ts, num_threads=1)
        ),
        "encode_to_numpy": lambda ts: sum(
            len(enc.encode_to_numpy(t, disallowed_special=())) for t in ts
        ),
        "piece_cache": piece_cache(enc),
        "line_cache": line_cache(enc),
        "ExactCounter.count": lambda ts: sum(counter.count(t) for t in ts),
    }


def measure(
    named: dict[str, Method], texts: list[str], mb: float, repeats: int
) -> dict[str, dict[str, Any]]:
    """Time every method ``repeats`` times, round-robin, so load from other processes falls on
    all methods alike. CPU time is the primary figure (this process's work on its one core);
    wall time is reported beside it."""
    cpu: dict[str, list[float]] = {label: [] for label in named}
    wall: dict[str, list[float]] = {label: [] for label in named}
    tokens: dict[str, int] = {}
    for _ in range(repeats):
        for label, method in named.items():
            c0, w0 = time.process_time(), time.perf_counter()
            tokens[label] = method(texts)
            cpu[label].append(mb / (time.process_time() - c0))
            wall[label].append(mb / (time.perf_counter() - w0))
    return {
        label: {
            "mb_s_cpu_median": round(statistics.median(cpu[label]), 2),
            "mb_s_cpu_best": round(max(cpu[label]), 2),
            "mb_s_wall_median": round(statistics.median(wall[label]), 2),
            "mb_s_cpu_runs": [round(r, 2) for r in cpu[label]],
            "tokens": tokens[label],
        }
        for label in named
    }


def pin_one_cpu() -> int | None:
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.micro.tokens_throughput", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--mb", type=float, default=10.0, help="corpus size in MB")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes per method")
    args = parser.parse_args(argv)

    cpu = pin_one_cpu()
    texts = source_corpus(args.mb)
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for name in ENCODINGS:
        ExactCounter(name).count("warm up: load the ranks outside the timed passes")
        results[name] = measure(methods(name), texts, mb, args.repeats)
        totals = {r["tokens"] for r in results[name].values()}
        if len(totals) != 1:
            print(f"{name}: methods disagree on token totals {totals}", file=sys.stderr)
            return 1

    chosen = {name: r["ExactCounter.count"]["mb_s_cpu_median"] for name, r in results.items()}
    report = {
        "corpus": {"source": "site-packages *.py", "files": len(texts), "mb": round(mb, 2)},
        "tiktoken": tiktoken.__version__,
        "pinned_cpu": cpu,
        "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
        "target_mb_s": TARGET,
        "results": results,
        "meets_target": all(v >= TARGET for v in chosen.values()),
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    print(
        f"corpus: {len(texts)} files, {mb:.1f} MB; cpu {cpu}; load {report['load_avg_1m_at_end']}"
    )
    width = max(len(label) for r in results.values() for label in r)
    print(f"{'method':<{width}}  {'encoding':<12} {'cpu med':>7} {'cpu best':>8} {'wall med':>8}")
    for name, by_method in results.items():
        for label, r in by_method.items():
            print(
                f"{label:<{width}}  {name:<12} {r['mb_s_cpu_median']:>7} {r['mb_s_cpu_best']:>8}"
                f" {r['mb_s_wall_median']:>8}"
            )
    verdict = "met" if report["meets_target"] else "NOT met"
    print(f"MB/s of UTF-8 source; target ExactCounter.count >= {TARGET:g} (cpu median): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Packing speed: 1,000 candidate code items into a 128k budget, two ways.

The items are real code: the first 1,000 chunks (``chunk_file``, in path order) of the Python
files under the given roots (by default this repository's ``src``, ``tests`` and
``benchmarks``), as ranked search hits, best first in that order. Counts are exact (o200k).

* ``measure_engine`` — what ``contextos context`` does with its hits: ``select_code`` (whole
  hits best first into the budget, see ``context/code_fill.py``) then ``pack``; timed together.
  This is ``pack_ms_p95`` in ``pack.py``'s output.
* ``measure`` — the packing primitive alone on a harder input: every hit made into its own
  shrinkable code layer (``merge_hits`` → ``code_layers``: quoted data block, ``path:a-b``
  header, fenced lines, ``min_tokens`` 128), 1,000 layers wanting ~1.5x the budget, so ``pack``
  selects and shrinks some 450 of them (``code_density``).

Every repetition starts cold: a fresh call with fresh layers (each data block gets a new nonce;
the primitive's layers get a new last line) and the compressors' memos cleared, so nothing one
run counted is reused by the next.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _metrics import percentile

__all__ = ["code_hits", "code_items", "measure", "measure_engine"]


def code_hits(roots: Sequence[Path], n: int = 1000) -> list[Any]:
    """``n`` search hits, best first: the chunks of the Python files under ``roots``."""
    from contextos.code.chunking import chunk_file
    from contextos.types import SearchHit

    hits: list[SearchHit] = []
    files = [path for root in roots for path in sorted(root.rglob("*.py"))]
    for path in files:
        rel = path.relative_to(roots[0].parent).as_posix()
        for c in chunk_file(rel, path.read_text(encoding="utf-8")):
            hits.append(
                SearchHit(rel, c.start_line, c.end_line, 0.0, c.symbol, c.kind, c.language, c.text)
            )
        if len(hits) >= n:
            return hits[:n]
    raise ValueError(f"only {len(hits)} chunks under {list(map(str, roots))}, need {n}")


def code_items(roots: Sequence[Path], n: int = 1000) -> list[Any]:
    """``n`` code layers, best first, one per hit of ``code_hits``."""
    from contextos.context import merge_hits
    from contextos.context.sources import code_layers

    layers = []
    for i, hit in enumerate(code_hits(roots, n)):
        layer = code_layers(merge_hits([hit]))[0]
        layers.append(dataclasses.replace(layer, id=f"code:{i}:{hit.path}", priority=n - i))
    return layers


def measure_engine(
    roots: Sequence[Path], *, items: int = 1000, budget: int = 128_000, reps: int = 60
) -> dict[str, Any]:
    """``select_code`` + ``pack`` of ``items`` hits into ``budget`` tokens, ``reps`` times."""
    from contextos.context import counter_for, pack
    from contextos.context.code_fill import select_code

    counter = counter_for("gpt-4.1")
    hits = code_hits(roots, items)
    pack(select_code(hits[:10], budget, counter), budget, counter)  # load the BPE ranks
    times: list[float] = []
    result = None
    for _ in range(reps):
        start = time.perf_counter()
        result = pack(select_code(hits, budget, counter), budget, counter)
        times.append((time.perf_counter() - start) * 1000)
    assert result is not None and result.used <= budget
    assert all(r.cause == "fit" for r in result.layers), "chosen code must fit whole"
    return {
        "path": "select_code + pack",
        "items": items,
        "budget": budget,
        "reps": reps,
        "layers": len(result.layers),
        "used": result.used,
        **_times(times),
    }


def _times(times: list[float]) -> dict[str, float]:
    return {
        "pack_ms_p50": round(percentile(times, 50), 2),
        "pack_ms_p95": round(percentile(times, 95), 2),
        "pack_ms_max": round(max(times), 2),
    }


def fresh(layer: Any, rep: int) -> Any:
    """``layer`` with a trailing comment naming ``rep``: new text, so a new data-block nonce."""
    body = f"{layer.body()}\n# rep {rep}" if rep else layer.body()
    return dataclasses.replace(layer, content=body, source=None)


def measure(
    roots: Sequence[Path], *, items: int = 1000, budget: int = 128_000, reps: int = 60
) -> dict[str, Any]:
    """Pack ``items`` layers into ``budget`` tokens ``reps`` times; milliseconds and the outcome."""
    from contextos.context import counter_for, pack

    try:
        from contextos.context.compress import clear_caches
    except ImportError:  # an older tree, before the memos could be cleared

        def clear_caches() -> None:
            return None

    counter = counter_for("gpt-4.1")
    layers = code_items(roots, items)
    pack(layers[:10], budget, counter)  # load the BPE ranks outside the timing
    times: list[float] = []
    result = None
    for rep in range(reps):
        current = [fresh(layer, rep) for layer in layers]
        clear_caches()
        start = time.perf_counter()
        result = pack(current, budget, counter)
        times.append((time.perf_counter() - start) * 1000)
    assert result is not None and result.used <= budget
    status = [r.status for r in result.layers]
    return {
        "path": "pack (1,000 shrinkable code layers)",
        "items": items,
        "budget": budget,
        "reps": reps,
        "demand_tokens": sum(r.full_tokens for r in result.layers),
        "used": result.used,
        "included": status.count("included"),
        "truncated": status.count("truncated"),
        "excluded": status.count("excluded"),
        **_times(times),
    }

"""Packing speed: ``contextos.context.pack`` over 1,000 code-excerpt layers into a 128k budget.

The items are real code: the first 1,000 chunks (``chunk_file``, in path order) of the Python
files under the given roots (by default this repository's ``src``, ``tests`` and
``benchmarks``), each made into the layer ``contextos context`` would build for a search hit
(``merge_hits`` → ``code_layers``: quoted data block, ``path:a-b`` header, fenced lines), ranked
in that order. Their whole size exceeds the budget, so a run selects, shrinks and drops. Every
repetition is a fresh ``pack`` call with the real o200k counter on fresh copies of the layers
(each data block gets a new nonce) with the compressors' memos cleared, so nothing one pack
counted is reused by the next. Left out: building the layers, which ``pack`` does not do.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _metrics import percentile

__all__ = ["code_items", "measure"]


def code_items(roots: Sequence[Path], n: int = 1000) -> list[Any]:
    """``n`` code layers, best first, from the chunks of the Python files under ``roots``."""
    from contextos.code.chunking import chunk_file
    from contextos.context import merge_hits
    from contextos.context.sources import code_layers
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
            hits = hits[:n]
            break
    if len(hits) < n:
        raise ValueError(f"only {len(hits)} chunks under {list(map(str, roots))}, need {n}")
    layers = []
    for i, hit in enumerate(hits):
        layer = code_layers(merge_hits([hit]))[0]
        layers.append(dataclasses.replace(layer, id=f"code:{i}:{hit.path}", priority=n - i))
    return layers


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
        "items": items,
        "budget": budget,
        "reps": reps,
        "demand_tokens": sum(r.full_tokens for r in result.layers),
        "used": result.used,
        "included": status.count("included"),
        "truncated": status.count("truncated"),
        "excluded": status.count("excluded"),
        "pack_ms_p50": round(percentile(times, 50), 2),
        "pack_ms_p95": round(percentile(times, 95), 2),
        "pack_ms_max": round(max(times), 2),
    }

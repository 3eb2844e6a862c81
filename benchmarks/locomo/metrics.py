"""Evidence normalisation and retrieval metrics for the LoCoMo benchmark, as pure functions.

A LoCoMo turn id is ``D<session>:<turn>`` (``D3:12``). Some ``evidence`` entries in the data are
malformed; :func:`normalise_evidence` repairs what has one clear reading and drops the rest:

* several ids in one string (``"D8:6; D9:17"``, ``"D1:3,D2:4"``) are split on ``;``, ``,`` and
  whitespace;
* a stray colon or zero padding (``"D:11:26"``, ``"D1:03"``) is normalised to ``D11:26`` / ``D1:3``;
* an id naming no turn of the conversation (``"D"``, ``"D10:0"``, ``"D10:19"`` when session 10
  has 16 turns) is dropped: there is nothing a retriever could return for it.

A question left with no valid evidence is skipped by the caller and counted, never scored.

Metrics, per question: turn recall@k = |gold ∩ top k| / |gold|; session recall_all@k = 1 when
every gold session (the ``D<n>`` part) is among the sessions of the top-k turns, else 0. Both are
averaged over questions; a system that returned nothing for a question scores 0 on it.
Left out: answer-level (LLM-judged) QA accuracy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.common.metrics import percentile

__all__ = [
    "KS",
    "Scored",
    "normalise_evidence",
    "session_of",
    "session_recall_all",
    "summarise_system",
    "turn_recall",
]

KS = (5, 10)
SESSION_K = 5

_ID = re.compile(r"D:?0*(\d+):0*(\d+)")
_SEPARATORS = re.compile(r"[;,\s]+")


def normalise_evidence(raw: Iterable[str], valid: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split and repair raw evidence ids; return (kept ids in order, deduplicated; dropped parts).

    ``valid`` is the set of turn ids the conversation actually has.
    """
    known = set(valid)
    kept: list[str] = []
    dropped: list[str] = []
    for entry in raw:
        for part in _SEPARATORS.split(entry.strip()):
            if not part:
                continue
            match = _ID.fullmatch(part)
            dia_id = f"D{int(match[1])}:{int(match[2])}" if match else None
            if dia_id is None or dia_id not in known:
                dropped.append(part)
            elif dia_id not in kept:
                kept.append(dia_id)
    return kept, dropped


def session_of(dia_id: str) -> str:
    """The session part of a turn id: ``"D3:12"`` → ``"D3"``."""
    return dia_id.split(":", 1)[0]


def turn_recall(ranked: Sequence[str], gold: Sequence[str], k: int) -> float:
    """Fraction of the gold turns among the first ``k`` of ``ranked``."""
    if not gold:
        raise ValueError("turn_recall needs at least one gold turn")
    wanted = set(gold)
    return len(wanted & set(ranked[:k])) / len(wanted)


def session_recall_all(ranked: Sequence[str], gold: Sequence[str], k: int = SESSION_K) -> float:
    """1.0 when every gold session appears among the sessions of the first ``k`` turns, else 0.0."""
    if not gold:
        raise ValueError("session_recall_all needs at least one gold turn")
    found = {session_of(t) for t in ranked[:k]}
    return 1.0 if {session_of(t) for t in gold} <= found else 0.0


@dataclass(frozen=True)
class Scored:
    """One question's outcome for one system: its category, gold turns and ranked turns."""

    category: int
    gold: tuple[str, ...]
    ranked: tuple[str, ...]


def _figures(rows: Sequence[Scored]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(rows)}
    for k in KS:
        values = [turn_recall(r.ranked, r.gold, k) for r in rows]
        out[f"turn_recall@{k}"] = round(sum(values) / len(values), 4) if values else None
    values = [session_recall_all(r.ranked, r.gold, SESSION_K) for r in rows]
    out[f"session_recall_all@{SESSION_K}"] = round(sum(values) / len(values), 4) if values else None
    return out


def summarise_system(rows: Sequence[Scored], recall_ms: Sequence[float]) -> dict[str, Any]:
    """The per-system block of the report: overall figures, latency, and figures per category."""
    out = _figures(rows)
    for q in (50, 95):
        value = percentile(recall_ms, q)
        out[f"recall_ms_p{q}"] = None if math.isnan(value) else round(value, 3)
    by_category: dict[int, list[Scored]] = {}
    for r in rows:
        by_category.setdefault(r.category, []).append(r)
    out["per_category"] = {str(c): _figures(by_category[c]) for c in sorted(by_category)}
    return out

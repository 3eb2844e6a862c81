"""Consolidation: merge near-duplicates, drop low-value memories, resolve contradictions.

``plan(store, llm=None)`` only reads and returns a ``Plan``; ``apply(store, plan)`` carries it
out, one transaction per step, re-checking that every memory it touches is still current (a
stale step is skipped, not forced). Every step leaves history rows; nothing is deleted.

- Near-duplicates: current memories of one scope whose token sets overlap (Jaccard ≥ 0.8) or
  whose vectors are close (cosine ≥ 0.9), clustered transitively. With a model, each cluster is
  rewritten as one memory (schema ``memory_merge``). Without one, only conservatively: a cluster
  merges into the member whose tokens cover all the others', else it is left alone.
- Low value: memories scored below ``min_score`` are closed (action DROP).
- Contradictions (model only): related memories of the same tag are checked pairwise, newer
  against older, with the update prompt; INVALIDATE closes the older one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from contextos.errors import UserInputError
from contextos.llm.protocol import LLM
from contextos.memory import pipeline, versions
from contextos.memory.ingest import build_memory
from contextos.memory.lexical import memory_tokens
from contextos.memory.prompts import render
from contextos.memory.records import Memory, now_utc
from contextos.memory.replies import MemoryMerge
from contextos.memory.store import MemoryStore

__all__ = ["Plan", "Step", "apply", "describe", "plan"]

JACCARD = 0.8
COSINE = 0.9
RELATED = 0.3
RELATED_COSINE = 0.6
MAX_CHECKS = 50


@dataclass(frozen=True, slots=True)
class Step:
    """MERGE ``ids`` into ``keep`` (an existing member) or into new ``text``; DROP ``ids[0]``;
    INVALIDATE ``ids[0]`` in favour of ``ids[1]``."""

    action: str
    ids: tuple[str, ...]
    reason: str
    keep: str | None = None
    text: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ids": list(self.ids)}


@dataclass(frozen=True, slots=True)
class Plan:
    steps: tuple[Step, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [s.to_dict() for s in self.steps]}


def _token_sets(memories: Sequence[Memory]) -> list[frozenset[str]]:
    return [frozenset(memory_tokens(m.text)) for m in memories]


Pairs = dict[tuple[int, int], tuple[float, float]]
"""``{(i, j): (jaccard, cosine)}`` for related memories ``i < j`` of one scope."""


def _similar_pairs(memories: Sequence[Memory]) -> Pairs:
    """Pairs of one scope whose token Jaccard or vector cosine reaches ``RELATED``."""
    sets = _token_sets(memories)
    postings: dict[str, list[int]] = defaultdict(list)
    for i, tokens in enumerate(sets):
        for token in tokens:
            postings[token].append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for ids in postings.values():
        if len(ids) <= 200:
            shared.update((a, b) for n, a in enumerate(ids) for b in ids[n + 1 :])
    out: Pairs = {}
    for (a, b), both in shared.items():
        jaccard = both / len(sets[a] | sets[b])
        if jaccard >= RELATED and memories[a].scope == memories[b].scope:
            out[(a, b)] = (jaccard, 0.0)
    rows = [i for i, m in enumerate(memories) if m.embedding is not None]
    if len(rows) < 2:
        return out
    matrix = np.stack([np.asarray(memories[i].embedding, dtype=np.float32) for i in rows])
    for start in range(0, len(rows), 512):
        sims = matrix[start : start + 512] @ matrix.T
        for r, c in zip(*np.nonzero(sims >= RELATED_COSINE), strict=True):
            a, b = rows[start + int(r)], rows[int(c)]
            if a < b and memories[a].scope == memories[b].scope:
                out[(a, b)] = (out.get((a, b), (0.0, 0.0))[0], float(sims[r, c]))
    return out


def _clusters(n: int, pairs: Pairs) -> list[list[int]]:
    """Connected groups of near-duplicates (Jaccard ≥ 0.8 or cosine ≥ 0.9)."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for (a, b), (jaccard, cosine) in pairs.items():
        if jaccard >= JACCARD or cosine >= COSINE:
            parent[root(a)] = root(b)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        groups[root(i)].append(i)
    return [sorted(g) for g in groups.values() if len(g) > 1]


def _merge_step(members: list[Memory], llm: LLM | None) -> Step | None:
    ids = tuple(m.id for m in members)
    if llm is not None:
        listing = "\n".join(f"- [{m.tag}] {m.text}" for m in members)
        prompt = render("merge", memories=listing)
        reply = llm.complete([{"role": "user", "content": prompt}], schema=MemoryMerge)
        merged: MemoryMerge = reply.parsed
        reason = f"near-duplicates merged by the model: {merged.reasoning}"
        return Step("MERGE", ids, reason, text=merged.text.strip())
    sets = _token_sets(members)
    union: frozenset[str] = frozenset().union(*sets)
    ranked = sorted(zip(members, sets, strict=True), key=lambda p: (-p[0].score, p[0].created_at))
    for member, tokens in ranked:
        if tokens >= union:
            reason = "near-duplicates: this member says everything the others say"
            return Step("MERGE", ids, reason, keep=member.id)
    return None


def plan(store: MemoryStore, *, llm: LLM | None = None, min_score: int = 3) -> Plan:
    """What consolidation would do now (reads only)."""
    memories = store.memories()
    pairs = _similar_pairs(memories)
    steps: list[Step] = []
    clustered: set[int] = set()
    for group in _clusters(len(memories), pairs):
        step = _merge_step([memories[i] for i in group], llm)
        if step is not None:
            steps.append(step)
            clustered.update(group)
    for i, memory in enumerate(memories):
        if i not in clustered and memory.score < min_score:
            reason = f"low value (score {memory.score} < {min_score})"
            steps.append(Step("DROP", (memory.id,), reason))
            clustered.add(i)
    if llm is not None:
        steps += _contradictions(memories, pairs, clustered, llm)
    return Plan(tuple(steps))


def _contradictions(
    memories: Sequence[Memory], pairs: Pairs, done: set[int], llm: LLM
) -> list[Step]:
    """INVALIDATE steps for related same-tag pairs the model judges contradictory."""
    steps: list[Step] = []
    ranked = sorted(pairs.items(), key=lambda p: -max(p[1]))
    checks = 0
    for (a, b), _ in ranked:
        if checks >= MAX_CHECKS:
            break
        if a in done or b in done or memories[a].tag != memories[b].tag:
            continue
        old, new = sorted((memories[a], memories[b]), key=lambda m: m.valid_from)
        checks += 1
        candidate = pipeline.Candidate(new.tag, new.text, "consolidation check")
        decision = pipeline.decide(llm, candidate, [old])
        if decision.action == "INVALIDATE":
            steps.append(Step("INVALIDATE", (old.id, new.id), f"contradicted by {new.id}"))
            done.update((a, b))
    return steps


def apply(store: MemoryStore, todo: Plan) -> list[dict[str, Any]]:
    """Carry out ``todo``; returns one ``{"step", "applied", "note"}`` record per step."""
    report: list[dict[str, Any]] = []
    for step in todo.steps:
        try:
            note = _apply_step(store, step)
            report.append({"step": step.to_dict(), "applied": True, "note": note})
        except UserInputError as exc:
            report.append({"step": step.to_dict(), "applied": False, "note": str(exc)})
    return report


def _apply_step(store: MemoryStore, step: Step) -> str:
    reason = f"consolidate: {step.reason}"
    if step.action == "DROP":
        with store.transaction() as conn:
            versions.close(conn, step.ids[0], action="DROP", reason=reason)
        return "closed"
    if step.action == "INVALIDATE":
        with store.transaction() as conn:
            versions.current(conn, step.ids[1])
            versions.close(
                conn, step.ids[0], action="INVALIDATE", reason=reason, superseded_by=step.ids[1]
            )
        return f"closed in favour of {step.ids[1]}"
    members = [store.get(i) for i in step.ids]
    keep = step.keep
    new: Memory | None = None
    if keep is None:
        tag = Counter(m.tag for m in members).most_common(1)[0][0]
        score = max(m.score for m in members)
        text = step.text or members[-1].text
        scope = members[0].scope
        built = build_memory(text, tag, scope, "consolidate", None, score, secrets="redact")
        (new,) = store.embed([built])
        keep = new.id
    with store.transaction() as conn:
        for member in members:
            versions.current(conn, member.id)
        if new is not None:
            versions.add(conn, [new], embed_model=store.embed_model, action="MERGE", reason=reason)
        when = now_utc()
        for member in members:
            if member.id != keep:
                versions.close(
                    conn, member.id, action="MERGE", reason=reason, superseded_by=keep, when=when
                )
    return f"merged into {keep}"


def describe(todo: Plan, report: list[dict[str, Any]] | None = None) -> list[str]:
    """One line per planned step, then one per applied or skipped step."""
    lines = [
        f"{s.action} {', '.join(s.ids)}{f' -> {s.keep}' if s.keep else ''}: {s.reason}"
        for s in todo.steps
    ] or ["nothing to consolidate"]
    lines += [f"{'applied' if r['applied'] else 'skipped'}: {r['note']}" for r in report or []]
    return lines

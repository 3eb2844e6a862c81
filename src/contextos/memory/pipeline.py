"""The model steps of memory extraction: extract → evaluate → decide (Cursor's two-stage
judgement, then Mem0-style reconciliation). Pure functions of the model and their inputs; the
queue (``jobs.py``) persists inputs and applies decisions.

1. ``extract``: one candidate ``tag: text`` or ``no_memory_needed`` (schema ``memory_extraction``).
2. ``evaluate``: a separate call scores the candidate 1–5, biased low (``memory_evaluation``).
   A turn in which the user explicitly asks to remember something scores 5 without the call.
3. ``decide``: the kept candidate and its top similar memories, renumbered 1..n so the model
   cannot invent ids, give ADD / UPDATE / INVALIDATE / NOOP (``memory_update``). An exact
   duplicate is NOOP without a call; with no similar memory it is ADD without a call; a target
   number outside the list falls back to ADD (nothing is lost).

Model text is treated as data: candidates are redacted for secrets and tags normalised.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from contextos.llm.protocol import LLM, Message
from contextos.memory.prompts import render
from contextos.memory.records import DEFAULT_TAG, Memory, slugify_tag
from contextos.memory.replies import NO_MEMORY, MemoryEvaluation, MemoryExtraction, MemoryUpdate
from contextos.secrets import redact_memory

__all__ = [
    "Candidate",
    "Decision",
    "decide",
    "evaluate",
    "extract",
    "is_explicit",
    "render_window",
]

_EXPLICIT = re.compile(
    r"\b(?:please remember|remember (?:this|that)|(?:don'?t|do not) forget (?:this|that)|"
    r"keep (?:this|that) in mind|make a note|note (?:this|that) down|for future reference|"
    r"save (?:this|that) (?:as a )?memory)\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Candidate:
    tag: str
    text: str
    explanation: str

    @property
    def line(self) -> str:
        return f"{self.tag}: {self.text}"


@dataclass(frozen=True, slots=True)
class Decision:
    """What the candidate does to the store; ``target`` is one of the listed memories."""

    action: str
    target: Memory | None
    text: str
    reason: str


def render_window(messages: Sequence[Message]) -> str:
    return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in messages)


def is_explicit(messages: Sequence[Message]) -> bool:
    """Whether the last user message explicitly asks to remember something."""
    users = [m["content"] for m in messages if m["role"] == "user"]
    return bool(users) and bool(_EXPLICIT.search(users[-1]))


def _ask(
    llm: LLM, prompt: str, schema: type[MemoryExtraction | MemoryEvaluation | MemoryUpdate]
) -> object:
    reply = llm.complete([{"role": "user", "content": prompt}], schema=schema, temperature=0)
    return reply.parsed


def extract(llm: LLM, window: str) -> Candidate | None:
    """Stage 1; None when the model finds nothing worth remembering."""
    parsed = _ask(llm, render("extract", conversation=window), MemoryExtraction)
    assert isinstance(parsed, MemoryExtraction)
    raw = parsed.memory.strip()
    if raw.strip("`'\" ").lower() == NO_MEMORY:
        return None
    tag, sep, text = raw.partition(":")
    if not sep or not text.strip() or len(tag) > 64:
        tag, text = DEFAULT_TAG, raw
    return Candidate(slugify_tag(tag), redact_memory(text.strip()), parsed.explanation)


def evaluate(llm: LLM, window: str, candidate: Candidate) -> MemoryEvaluation:
    """Stage 2, a separate call that sees the conversation and the candidate."""
    prompt = render("evaluate", conversation=window, candidate=candidate.line)
    parsed = _ask(llm, prompt, MemoryEvaluation)
    assert isinstance(parsed, MemoryEvaluation)
    return parsed


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def decide(llm: LLM, candidate: Candidate, similar: Sequence[Memory]) -> Decision:
    """Stage 3: ADD, UPDATE, INVALIDATE or NOOP against ``similar`` (at most five)."""
    listed = list(similar)[:5]
    for memory in listed:
        if _same(memory.text, candidate.text):
            return Decision("NOOP", memory, memory.text, "exact duplicate of a current memory")
    if not listed:
        return Decision("ADD", None, candidate.text, "no similar memory")
    existing = "\n".join(f"{i}. [{m.tag}] {m.text}" for i, m in enumerate(listed, start=1))
    prompt = render("update", existing=existing, candidate=candidate.line)
    parsed = _ask(llm, prompt, MemoryUpdate)
    assert isinstance(parsed, MemoryUpdate)
    text = redact_memory(parsed.text.strip()) or candidate.text
    if parsed.action == "ADD":
        return Decision("ADD", None, text, "model: new information")
    index = parsed.target
    if index is None or not 1 <= index <= len(listed):
        if parsed.action == "NOOP":
            return Decision("NOOP", None, candidate.text, "model: already known")
        return Decision("ADD", None, candidate.text, f"model named no listed memory ({index})")
    reasons = {
        "UPDATE": "model: refines an existing memory",
        "INVALIDATE": "model: contradicts an existing memory",
        "NOOP": "model: duplicate of an existing memory",
    }
    return Decision(parsed.action, listed[index - 1], text, reasons[parsed.action])

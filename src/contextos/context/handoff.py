"""Compaction on a stored session: write a summary, or hand off to a fresh thread.

``compact`` summarises all but the last ``keep_last`` events with a model and stores the summary
beside them; packing then uses the summary in place of the events it covers. ``handoff`` writes a
new-thread prompt (goal, relevant files, decisions, open questions) and starts a new session
with it; it needs no model (a summary built from the verbatim facts alone is used then). The
events themselves are never changed.
"""

from __future__ import annotations

from contextos.context.compaction import CompactionSummary, enforce_facts, facts, summarize
from contextos.context.session import Compaction, Event, SessionStore, check_session_id
from contextos.errors import UserInputError
from contextos.llm.protocol import LLM

__all__ = ["compact", "factual_summary", "handoff", "handoff_prompt", "load_summary"]


def compact(store: SessionStore, session_id: str, llm: LLM, *, keep_last: int = 4) -> Compaction:
    """Summarise the session's events except the last ``keep_last`` and store the summary."""
    events = store.events(session_id)
    covered = events[: len(events) - keep_last] if keep_last > 0 else events
    if not covered:
        raise UserInputError(
            f"nothing to compact: session {session_id!r} has {len(events)} event(s), "
            f"and the last {keep_last} are kept verbatim"
        )
    summary = summarize(llm, covered)
    compaction = Compaction(
        session_id, "summary", covered[-1].seq, summary.model_dump_json(), llm.name
    )
    store.save_compaction(compaction)
    return compaction


def load_summary(compaction: Compaction) -> CompactionSummary:
    return CompactionSummary.model_validate_json(compaction.content)


def factual_summary(events: list[Event]) -> CompactionSummary:
    """A summary without a model: the user's messages, paths, commands and numbers."""
    users = [e.content for e in events if e.role == "user"]
    last = next((e.content for e in reversed(events) if e.role == "assistant" and e.content), "")
    errors = [e.content.splitlines()[0] for e in events if e.ok is False and e.content]
    found = facts(events)
    summary = CompactionSummary(
        intent=users[0] if users else "",
        decisions=[],
        files_and_paths=list(found.paths),
        commands_run=list(found.commands),
        errors_and_fixes=[f"{err} (fix unknown)" for err in errors[-5:]],
        pending_tasks=[],
        current_step=last.splitlines()[0] if last else "",
        user_messages=[],
        numbers=[],
    )
    return enforce_facts(summary, found)


def handoff_prompt(summary: CompactionSummary) -> str:
    """A prompt that starts a fresh thread where the old one stopped."""
    parts = ["You are continuing work started in an earlier session.", f"Goal: {summary.intent}"]
    sections = (
        ("Relevant files", summary.files_and_paths),
        ("Decisions so far", summary.decisions),
        ("Commands run", summary.commands_run),
        ("Errors met", summary.errors_and_fixes),
        ("Open questions and pending tasks", summary.pending_tasks),
        ("Numbers to keep", summary.numbers),
    )
    always = {"Relevant files", "Decisions so far", "Open questions and pending tasks"}
    for title, items in sections:
        if items or title in always:
            lines = [f"- {item}" for item in items] or ["- (none recorded)"]
            parts.append(title + ":\n" + "\n".join(lines))
    if summary.current_step:
        parts.append(f"Where it stopped: {summary.current_step}")
    if summary.user_messages:
        quoted = "\n".join(
            f"{i}.\n" + "\n".join("> " + line for line in m.split("\n"))
            for i, m in enumerate(summary.user_messages, 1)
        )
        parts.append("The user's messages so far (verbatim):\n" + quoted)
    return "\n\n".join(parts)


def handoff(
    store: SessionStore, session_id: str, new_session_id: str, llm: LLM | None = None
) -> str:
    """Write a handoff prompt for ``session_id`` and start ``new_session_id`` with it."""
    check_session_id(new_session_id)
    if store.exists(new_session_id):
        raise UserInputError(f"session {new_session_id!r} already exists: pick a new id")
    events = store.events(session_id)
    if not events:
        raise UserInputError(f"session {session_id!r} has no events to hand off")
    summary = summarize(llm, events) if llm is not None else factual_summary(events)
    prompt = handoff_prompt(summary)
    model = llm.name if llm is not None else None
    store.save_compaction(Compaction(session_id, "handoff", events[-1].seq, prompt, model))
    store.append(new_session_id, "user", prompt, parent=session_id)
    return prompt

"""Compaction never destroys history: masking, structured summaries, handoffs, the store (on both
backends)."""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest

from contextos.context import (
    CompactionSummary,
    SessionStore,
    SessionView,
    WordCounter,
    assemble,
    compact,
    handoff,
    mask_observations,
    render_summary,
    summarize,
)
from contextos.context.handoff import load_summary
from contextos.context.session import Event
from contextos.errors import StoreError, UserInputError
from contextos.llm import ScriptedLLM
from tests.conftest import Backend


def record_session(store: SessionStore, sid: str = "s1") -> None:
    """A short, realistic debugging session: two user messages, reads, a failing command."""
    store.append(sid, "user", "The test tests/test_api.py::test_limits fails with 429 on port 8080")
    store.append(sid, "assistant", "", tool="read_file", args={"path": "src/api/limits.py"})
    store.append(
        sid,
        "tool",
        "RATE = 100\n" + "def check(n):\n    return n < RATE\n" * 30,
        tool="read_file",
        ok=True,
    )
    store.append(
        sid,
        "assistant",
        "",
        tool="run_shell",
        args={"command": "pytest -q tests/test_api.py -k limits"},
    )
    store.append(
        sid,
        "tool",
        "FAILED tests/test_api.py::test_limits - assert 429 == 200\n1 failed in 0.42s",
        tool="run_shell",
        ok=False,
    )
    store.append(sid, "user", "Keep RATE at 100 but allow bursts of 20.")
    store.append(sid, "assistant", "I will add a burst allowance in src/api/limits.py.")
    store.append(sid, "assistant", "", tool="run_shell", args={"command": "git diff --stat"})
    store.append(sid, "tool", " src/api/limits.py | 4 +++-", tool="run_shell", ok=True)


SCRIPTED_SUMMARY = {
    "intent": "Make the limits test pass while allowing bursts.",
    "decisions": ["Keep the rate, add a burst allowance."],
    "files_and_paths": ["src/api/limits.py"],
    "commands_run": [],
    "errors_and_fixes": ["the limits test failed with a 429"],
    "pending_tasks": ["implement the burst allowance"],
    "current_step": "editing the limiter",
    "user_messages": ["the user wants the test fixed"],
    "numbers": [],
}


def test_session_history_is_append_only_and_survives_reopening(backend: Backend) -> None:
    refused = sqlite3.IntegrityError if backend.name == "sqlite" else StoreError
    with backend.sessions() as store:
        record_session(store)
        with pytest.raises(refused, match="append-only"):
            store._conn.execute("DELETE FROM events")
        with pytest.raises(refused, match="append-only"):
            store._conn.execute("UPDATE events SET content = 'x'")
        with pytest.raises(UserInputError, match="invalid session id"):
            store.append("../etc", "user", "x")
    with backend.sessions() as again:
        events = again.events("s1")
    assert [e.seq for e in events] == list(range(1, 10))
    assert events[3] == Event(
        4,
        "assistant",
        "",
        "run_shell",
        {"command": "pytest -q tests/test_api.py -k limits"},
        None,
        events[3].ts,
    )
    assert events[4].ok is False and events[2].ok is True


def test_observation_masking_keeps_the_last_outputs_and_says_how_to_get_the_rest_back(
    backend: Backend,
) -> None:
    with backend.sessions() as store:
        record_session(store)
        events = store.events("s1")
    masked = mask_observations(events, keep_last=1, session="s1")
    assert masked[8] == events[8] and masked[:2] == events[:2]
    assert masked[2].content == (
        '[output of read_file(path="src/api/limits.py") masked: 62 lines, 1031 chars. Call the '
        "tool again to see it; the full output is kept in the session store (session s1, event 3).]"
    )
    assert masked[4].content.startswith('[output of run_shell(command="pytest -q tests/test_api.py')
    assert [e.content for e in mask_observations(events, keep_last=3)] == [
        e.content for e in events
    ]


def test_a_structured_summary_keeps_paths_commands_numbers_and_user_messages_verbatim(
    backend: Backend,
) -> None:
    with backend.sessions() as store:
        record_session(store)
        events = store.events("s1")
    llm = ScriptedLLM([json.dumps(SCRIPTED_SUMMARY)])
    summary = summarize(llm, events)
    assert CompactionSummary.__schema_name__ == "compaction_summary"
    assert summary.user_messages == [
        "The test tests/test_api.py::test_limits fails with 429 on port 8080",
        "Keep RATE at 100 but allow bursts of 20.",
    ]
    text = render_summary(summary)
    for kept in (
        "src/api/limits.py",
        "tests/test_api.py",
        "pytest -q tests/test_api.py -k limits",
        "git diff --stat",
        "8080",
        "429",
        "100",
        "20",
        "0.42",
        "> Keep RATE at 100 but allow bursts of 20.",
    ):
        assert kept in text, kept
    assert summary.decisions == SCRIPTED_SUMMARY["decisions"]
    prompt = llm.calls[0][1]["content"]
    assert "[4] assistant calls run_shell" in prompt and "FAILED tests/test_api.py" in prompt


def test_compaction_changes_what_is_packed_never_what_is_stored(backend: Backend) -> None:
    with backend.sessions() as store:
        record_session(store)
        compaction = compact(store, "s1", ScriptedLLM([json.dumps(SCRIPTED_SUMMARY)]), keep_last=3)
        assert (compaction.upto_seq, compaction.model) == (6, "scripted:test")
        events = store.events("s1")
        stored = store.latest_compaction("s1")
    assert len(events) == 9 and stored == compaction
    view = SessionView("s1", tuple(events), load_summary(compaction), compaction.upto_seq)
    result, _ = assemble("continue", budget=5000, counter=WordCounter(), session=view)
    history = [r.id for r in result.layers if r.id.startswith("history:")]
    assert history == ["history:summary", "history:7", "history:8", "history:9"]
    summary = result.layer("history:summary").text
    assert summary.startswith(
        "Summary of session events 1-6 (compacted; the full history is stored)"
    )
    assert "pytest -q tests/test_api.py -k limits" in summary


def test_nothing_to_compact_is_a_clear_error(backend: Backend) -> None:
    with backend.sessions() as store:
        store.append("short", "user", "hello")
        with pytest.raises(UserInputError, match="nothing to compact"):
            compact(store, "short", ScriptedLLM([]), keep_last=4)


def test_handoff_starts_a_fresh_session_without_a_model(backend: Backend) -> None:
    with backend.sessions() as store:
        record_session(store)
        prompt = handoff(store, "s1", "s2")
        fresh = store.events("s2")
        assert store.parent("s2") == "s1" and len(store.events("s1")) == 9
        with pytest.raises(UserInputError, match="already exists"):
            handoff(store, "s1", "s2")
    assert [(e.role, e.content) for e in fresh] == [("user", prompt)]
    assert prompt.startswith("You are continuing work started in an earlier session.")
    assert "Goal: The test tests/test_api.py::test_limits fails with 429 on port 8080" in prompt
    assert "Relevant files:\n- tests/test_api.py\n- src/api/limits.py" in prompt
    assert "- pytest -q tests/test_api.py -k limits" in prompt
    assert "Decisions so far:\n- (none recorded)" in prompt
    assert "Open questions and pending tasks:\n- (none recorded)" in prompt
    assert "Errors met:\n- FAILED tests/test_api.py::test_limits - assert 429 == 200" in prompt
    assert "> Keep RATE at 100 but allow bursts of 20." in prompt


def test_a_long_history_drops_its_oldest_turns_first() -> None:
    events = [Event(1, "user", "please refactor the parser module carefully")]
    for seq in range(2, 40):
        role = "assistant" if seq % 2 == 0 else "tool"
        events.append(
            Event(
                seq,
                role,
                f"step {seq} " + "detail " * 30,
                tool=None if role == "assistant" else "read_file",
                ok=True if role == "tool" else None,
            )
        )
    view = SessionView("long", tuple(events))
    result, _ = assemble("continue", budget=700, counter=WordCounter(), session=view)
    status = {r.id: r.status for r in result.layers if r.id.startswith("history:")}
    assert status["history:39"] == "included" and status["history:38"] != "excluded"
    assert status["history:2"] == "excluded"
    kept = [int(i.split(":")[1]) for i, s in status.items() if s != "excluded"]
    assert status["history:1"] == "included"  # the first request outranks old chatter
    dropped = [int(i.split(":")[1]) for i, s in status.items() if s == "excluded"]
    assert max(dropped) < min(k for k in kept if k != 1)
    assert result.used <= 700


def test_summaries_need_their_session_to_exist(backend: Backend) -> None:
    from contextos.context.session import Compaction

    with backend.sessions() as store, pytest.raises(StoreError):
        store.save_compaction(Compaction("ghost", "summary", 1, "{}", None))


def test_a_tool_output_with_nul_bytes_is_stored_the_same_on_both_backends(
    backend: Backend,
) -> None:
    with backend.sessions() as store:
        stored = store.append("s1", "tool", "PNG\x00\x01 header", tool="run", ok=True)
        (event,) = store.events("s1")
    assert stored.content == event.content == "PNG\ufffd\x01 header"


def test_writers_appending_to_one_session_at_once_get_one_sequence(backend: Backend) -> None:
    """Four threads, each with its own store (its own connection, as separate processes),
    append to one session at once: events numbered 1..N, none lost, none numbered twice."""
    start = threading.Barrier(4)

    def append(who: int) -> None:
        with backend.sessions() as store:
            start.wait()
            for n in range(10):
                store.append("shared", "user", f"writer {who} message {n}")

    threads = [threading.Thread(target=append, args=(who,)) for who in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    with backend.sessions() as store:
        events = store.events("shared")
    assert [e.seq for e in events] == list(range(1, 41))
    assert sorted(e.content for e in events) == sorted(
        f"writer {who} message {n}" for who in range(4) for n in range(10)
    )

"""The model pipeline with ScriptedLLM: extract → evaluate → update, queue and worker; on both
backends, except the worker, which opens its store by SQLite path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contextos.llm import ScriptedLLM
from contextos.memory import MemoryStore
from contextos.memory.jobs import ExtractionOutcome, ExtractionQueue
from contextos.memory.prompts import PROMPT_VERSIONS, render
from contextos.memory.replies import (
    MemoryEvaluation,
    MemoryExtraction,
    MemoryMerge,
    MemoryQueries,
    MemoryUpdate,
)
from contextos.memory.worker import ExtractionWorker
from tests.conftest import Backend, HashingEmbedder


def extracted(memory: str) -> str:
    return json.dumps({"explanation": "a lasting preference", "memory": memory})


def scored(score: int) -> str:
    return json.dumps({"reasoning": "judged", "score": score})


def update(action: str, target: int | None, text: str) -> str:
    return json.dumps({"action": action, "target": target, "text": text})


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


@pytest.fixture
def store(backend: Backend) -> MemoryStore:
    s = backend.memory(embedder=HashingEmbedder())
    yield s  # type: ignore[misc]
    s.close()


def test_schemas_carry_their_provider_names() -> None:
    names = [
        m.__schema_name__
        for m in (MemoryExtraction, MemoryEvaluation, MemoryUpdate, MemoryQueries, MemoryMerge)
    ]
    assert names == [
        "memory_extraction",
        "memory_evaluation",
        "memory_update",
        "memory_queries",
        "memory_merge",
    ]


def test_prompts_are_versioned_files_with_criteria_and_examples() -> None:
    assert PROMPT_VERSIONS["extract"] == "extract_v1"
    prompt = render("extract", conversation="[user]\nhi")
    for phrase in ("DO NOT REMEMBER", "Good examples", "Bad examples", "DRY", "no_memory_needed"):
        assert phrase in prompt
    assert "never follow instructions" in prompt.lower()


def test_contradiction_invalidates_the_old_memory_and_keeps_both(store: MemoryStore) -> None:
    llm = ScriptedLLM(
        [
            extracted("code-style: The user loves tabs for indentation."),
            scored(4),
            extracted("code-style: The user hates tabs for indentation."),
            scored(4),
            update("INVALIDATE", 1, "The user hates tabs for indentation."),
        ]
    )
    queue = ExtractionQueue(store, llm)
    (first,) = queue.extract(user("I love tabs"), conversation="c1")
    (second,) = queue.extract(user("I hate tabs"), conversation="c2")
    assert (first.action, second.action) == ("ADD", "INVALIDATE")
    assert first.memory_id and second.memory_id
    old, new = store.get(first.memory_id), store.get(second.memory_id)
    assert old.valid_to == new.valid_from and old.superseded_by == new.id
    assert new.valid_to is None and new.text == "The user hates tabs for indentation."
    assert [m.id for m in store.memories()] == [new.id]
    assert [(e.target, e.action) for e in store.history(old.id)] == [
        (old.id, "ADD"),
        (new.id, "INVALIDATE"),
        (old.id, "INVALIDATE"),
    ]
    assert (new.source, new.tag, new.score) == ("c2:0", "code-style", 4)
    assert "1. [code-style] The user loves tabs" in llm.calls[-1][0]["content"]


def test_duplicate_is_a_noop(store: MemoryStore) -> None:
    existing = store.remember("The user runs tests with pytest -x.", tag="testing")
    llm = ScriptedLLM(
        [
            extracted("testing: The user always runs pytest with -x."),
            scored(4),
            update("NOOP", 1, "The user runs tests with pytest -x."),
            extracted("testing: the user runs tests with  pytest -x."),
            scored(5),
        ]
    )
    queue = ExtractionQueue(store, llm)
    chat = [*user("run pytest -x"), {"role": "assistant", "content": "ok"}]
    outcomes = queue.extract([*chat, *user("as always, pytest -x")])
    assert [(o.action, o.memory_id) for o in outcomes] == [
        ("NOOP", existing.id),
        ("NOOP", existing.id),
    ]
    assert store.memories() == [existing]
    assert llm.remaining == 0
    assert [e.action for e in store.history(existing.id)] == ["ADD", "NOOP", "NOOP"]


def test_update_writes_a_new_version(store: MemoryStore) -> None:
    old = store.remember("The user uses Python 3.11.", tag="languages")
    llm = ScriptedLLM(
        [
            extracted("languages: The user moved to Python 3.13."),
            scored(4),
            update("UPDATE", 1, "The user uses Python 3.13."),
        ]
    )
    (outcome,) = ExtractionQueue(store, llm).extract(user("we're on python 3.13 now"))
    assert outcome.action == "UPDATE" and outcome.memory_id
    assert store.get(old.id).superseded_by == outcome.memory_id
    assert [m.text for m in store.memories()] == ["The user uses Python 3.13."]


def test_low_scores_and_no_memory_needed_are_dropped(store: MemoryStore) -> None:
    llm = ScriptedLLM(
        [
            extracted("task: Rename the variable x in client.py."),
            scored(3),
            extracted("no_memory_needed"),
        ]
    )
    outcomes = ExtractionQueue(store, llm).extract(
        [*user("rename x in client.py"), *user("thanks, that works")]
    )
    assert [(o.status, o.action, o.score) for o in outcomes] == [
        ("done", "DROPPED", 3),
        ("done", None, None),
    ]
    assert store.memories() == []
    assert llm.remaining == 0


def test_min_score_is_configurable(store: MemoryStore) -> None:
    llm = ScriptedLLM([extracted("tooling: The user likes make."), scored(3)])
    (outcome,) = ExtractionQueue(store, llm, min_score=3).extract(user("I like make"))
    assert outcome.action == "ADD"


def test_explicit_remember_request_scores_5_without_an_evaluation_call(
    store: MemoryStore,
) -> None:
    llm = ScriptedLLM([extracted("workflow: The user opens pull requests as drafts.")])
    (outcome,) = ExtractionQueue(store, llm).extract(
        user("Please remember this: I open PRs as drafts.")
    )
    assert (outcome.score, outcome.action) == (5, "ADD")
    assert len(llm.calls) == 1


def test_secrets_in_model_output_are_redacted(store: MemoryStore) -> None:
    llm = ScriptedLLM(
        [extracted("tooling: The user's key is sk-proj-abcdefghijklmnopqrstuvwxyz"), scored(5)]
    )
    (outcome,) = ExtractionQueue(store, llm).extract(user("my key is ..."))
    assert outcome.memory_id is not None
    assert store.get(outcome.memory_id).text == "The user's key is [REDACTED:openai-key]"


def test_malformed_model_json_is_reasked_then_fails_cleanly_and_keeps_the_transcript(
    store: MemoryStore,
) -> None:
    bad = ScriptedLLM(["not json", '{"explanation": 1}', "```json\n{oops\n```"])
    queue = ExtractionQueue(store, bad)
    (outcome,) = queue.extract(user("I always use uv, never pip"), conversation="c9")
    assert outcome.status == "failed" and "memory_extraction" not in (outcome.error or "")
    assert "MemoryExtraction after 2 re-asks" in (outcome.error or "")
    assert len(bad.calls) == 3
    assert "not valid JSON for the schema" in bad.calls[1][-1]["content"]
    row = store.connection.execute(
        "SELECT status, attempts, raw_output, messages FROM jobs"
    ).fetchone()
    assert (row[0], row[1], row[2]) == ("failed", 1, "```json\n{oops\n```")
    assert json.loads(row[3]) == user("I always use uv, never pip")
    good = ScriptedLLM([extracted("tooling: The user uses uv, never pip."), scored(5)])
    (retried,) = ExtractionQueue(store, good).run_pending()
    assert (retried.job_id, retried.status, retried.action) == (outcome.job_id, "done", "ADD")
    assert [m.source for m in store.memories()] == ["c9:0"]


def test_reruns_are_idempotent(store: MemoryStore) -> None:
    llm = ScriptedLLM([extracted("tooling: The user uses pnpm."), scored(4)])
    queue = ExtractionQueue(store, llm)
    first = queue.extract(user("we use pnpm"), conversation="c1")
    again = queue.extract(user("we use pnpm"), conversation="c1")
    assert first == again
    assert len(store.memories()) == 1
    assert queue.run_pending() == []
    assert store.connection.execute("SELECT count(*) FROM jobs").fetchone()[0] == 1


def test_a_window_must_end_with_a_user_turn(store: MemoryStore) -> None:
    from contextos.errors import UserInputError

    queue = ExtractionQueue(store, ScriptedLLM([]))
    with pytest.raises(UserInputError, match="end with a user message"):
        queue.enqueue([{"role": "assistant", "content": "hi"}])
    with pytest.raises(UserInputError, match="'role' must be one of"):
        queue.enqueue([{"role": "wizard", "content": "hi"}])


def test_worker_extracts_off_the_callers_thread(tmp_path: Path) -> None:
    path = tmp_path / "memory.db"
    llm = ScriptedLLM([extracted("tooling: The user uses nix."), scored(4)])
    worker = ExtractionWorker(path, llm)
    try:
        job = worker.submit(user("I use nix for everything"), conversation="live")
        assert worker.drain(timeout=30)
    finally:
        worker.close()
    assert [o.job_id for o in worker.outcomes] == [job] and worker.errors == []
    assert isinstance(worker.outcomes[0], ExtractionOutcome)
    with MemoryStore.open(path) as s:
        assert [m.text for m in s.memories()] == ["The user uses nix."]


def test_recall_with_a_model_also_searches_its_sub_queries(backend: Backend) -> None:
    llm = ScriptedLLM([json.dumps({"queries": ["editor choice", "vim or emacs"]})])
    with backend.memory("m", embedder=HashingEmbedder(), llm=llm) as s:
        s.add_many([{"text": "The user edits code in emacs"}, {"text": "Lunch is at noon"}])
        hits = s.recall("what should I configure?", k=1)
        assert [h.memory.text for h in hits] == ["The user edits code in emacs"]
        assert "what should I configure?" in llm.calls[0][0]["content"]
        assert s.recall("lunch", expand=False)[0].memory.text == "Lunch is at noon"

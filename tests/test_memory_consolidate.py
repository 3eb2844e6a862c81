"""Consolidation: a plan first (read-only), then merges, drops and invalidations in history; on
both backends."""

from __future__ import annotations

import json

from contextos.llm import ScriptedLLM
from contextos.memory.consolidate import Plan, Step, apply, plan
from tests.conftest import Backend


def test_without_a_model_only_safe_merges_and_low_value_drops(backend: Backend) -> None:
    with backend.memory() as store:
        full = store.remember("The user prefers tabs for indentation in Python files")
        part = store.remember("The user prefers tabs for indentation in Python")
        other = store.remember("The user prefers tabs for indentation in Go code")
        low = store.add_many([{"text": "The build was slow today", "score": 2}])[0]
        todo = plan(store)
        assert todo == Plan(
            (
                Step(
                    "MERGE",
                    (full.id, part.id),
                    "near-duplicates: this member says everything the others say",
                    keep=full.id,
                ),
                Step("DROP", (low.id,), "low value (score 2 < 3)"),
            )
        )
        assert len(store.memories()) == 4
        report = apply(store, todo)
        assert all(r["applied"] for r in report)
        assert [m.id for m in store.memories()] == [full.id, other.id]
        assert [e.action for e in store.history(low.id)] == [
            "ADD",
            "DROP",
        ]
        assert store.get(low.id).valid_to is not None


def test_conservative_merge_keeps_the_member_that_covers_the_others(backend: Backend) -> None:
    with backend.memory() as store:
        full = store.remember("The user prefers tabs for indentation in Python")
        part = store.remember("The user prefers tabs for indentation in python!")
        (step,) = plan(store).steps
        assert (step.action, step.ids, step.keep) == ("MERGE", (full.id, part.id), full.id)
        apply(store, Plan((step,)))
        assert [m.id for m in store.memories()] == [full.id]
        assert store.get(part.id).superseded_by == full.id
        assert [(e.target, e.action) for e in store.history(part.id)] == [
            (full.id, "ADD"),
            (part.id, "ADD"),
            (part.id, "MERGE"),
        ]


def test_with_a_model_clusters_are_rewritten_and_contradictions_resolved(backend: Backend) -> None:
    llm = ScriptedLLM(
        [
            json.dumps({"reasoning": "same", "text": "The user runs pytest with -x and -q."}),
            json.dumps({"action": "INVALIDATE", "target": 1, "text": "light mode"}),
        ]
    )
    with backend.memory() as store:
        a = store.remember("The user runs pytest with -x", tag="testing")
        b = store.remember("The user runs pytest with -x and -q", tag="testing")
        dark = store.remember("The user prefers dark mode themes", tag="ui")
        light = store.remember("The user prefers light mode themes", tag="ui")
        todo = plan(store, llm=llm)
        assert [(s.action, s.ids) for s in todo.steps] == [
            ("MERGE", (a.id, b.id)),
            ("INVALIDATE", (dark.id, light.id)),
        ]
        report = apply(store, todo)
        assert [r["applied"] for r in report] == [True, True]
        texts = sorted(m.text for m in store.memories())
        assert texts == [
            "The user prefers light mode themes",
            "The user runs pytest with -x and -q.",
        ]
        assert store.get(dark.id).superseded_by == light.id
        stale = apply(store, todo)
        assert [r["applied"] for r in stale] == [False, False]

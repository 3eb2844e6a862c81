"""Tenancy on both backends: a user's ``user``-scoped memories never reach another user (recall,
listing, get by id, history, edits, export), while ``project`` memories are shared by everyone
with the store. Two users of one database are two ``MemoryStore`` views (``as_owner``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from contextos.errors import UnknownIdError
from contextos.memory.portable import agents_md, export_markdown
from tests.conftest import Backend, HashingEmbedder


def test_a_users_memories_never_reach_another_user(backend: Backend, tmp_path: Path) -> None:
    with backend.memory(owner="alice", embedder=HashingEmbedder()) as alice:
        bob = alice.as_owner("bob")
        old = alice.remember("Alice prefers tabs for indentation", tag="code-style")
        mine = alice.edit(old.id, "Alice prefers tabs, width 4, for indentation")
        shared = alice.remember("Payments go through the ledger service", scope="project")
        assert [h.memory.id for h in bob.recall("tabs indentation width payments ledger")] == [
            shared.id
        ]
        assert bob.memories(include_closed=True) == [shared]
        for hidden in (old.id, mine.id):
            for call in (bob.get, bob.history, bob.forget, lambda i: bob.edit(i, "mine now")):
                with pytest.raises(UnknownIdError, match="unknown memory id"):
                    call(hidden)
        exported = export_markdown(bob, tmp_path / "bob")
        assert "Alice" not in "".join(p.read_text() for p in exported)
        assert "Alice" not in agents_md(bob) and "ledger" in agents_md(bob)
        assert alice.recall("tabs indentation")[0].memory == alice.get(mine.id)
        assert [e.action for e in alice.history(mine.id)] == ["ADD", "UPDATE", "UPDATE"]


def test_the_same_text_is_each_users_own_memory(backend: Backend) -> None:
    with backend.memory(owner="alice") as alice:
        bob = alice.as_owner("bob")
        hers = alice.remember("I deploy on Fridays")
        his = bob.remember("I deploy on Fridays")
        assert his.id != hers.id
        assert [m.id for m in alice.memories()] == [hers.id]
        assert [m.id for m in bob.memories()] == [his.id]


def test_project_memories_are_shared_and_edited_by_everyone(backend: Backend) -> None:
    with backend.memory(owner="alice", embedder=HashingEmbedder()) as alice:
        bob = alice.as_owner("bob")
        rule = alice.remember("We never mock the database", scope="project", tag="testing")
        assert bob.get(rule.id) == rule
        assert bob.remember("we never mock the  DATABASE", scope="project") == rule
        edited = bob.edit(rule.id, "We never mock the database, not even in unit tests")
        assert [m.id for m in alice.memories(scope="project")] == [edited.id]
        assert alice.recall("mock the database")[0].memory.id == edited.id
        assert [(e.target, e.action) for e in alice.history(rule.id)] == [
            (rule.id, "ADD"),
            (edited.id, "UPDATE"),
            (rule.id, "UPDATE"),
        ]

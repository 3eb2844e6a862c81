"""Edges and facts keep users apart as memories do: a ``user``-scoped fact or edge is its owner's
alone (each user has their own current value of a key), ``project`` ones are shared; on both
backends."""

from __future__ import annotations

import pytest

from contextos.errors import UserInputError
from contextos.memory import MemoryStore, graph
from tests.conftest import Backend


def _value(store: MemoryStore, key: str, scope: str = "user") -> str | None:
    found = graph.fact(store, key, scope=scope)
    return found.value if found else None


def test_user_facts_and_edges_are_per_user_and_project_ones_shared(backend: Backend) -> None:
    with backend.memory() as store:
        alice, bob = store.as_owner("alice"), store.as_owner("bob")
        graph.set_fact(alice, "editor", "vim")
        graph.set_fact(bob, "editor", "emacs")  # the same key: no clash with alice's
        graph.set_fact(alice, "ci", "github actions", scope="project")
        graph.relate(alice, "alice", "owns", "billing")
        graph.relate(alice, "billing", "uses", "ledger", scope="project")

        assert _value(alice, "editor") == "vim"
        assert _value(bob, "editor") == "emacs"
        assert _value(bob, "ci", "project") == "github actions"
        assert [(e.subject, e.object) for e in graph.edges(bob)] == [("billing", "ledger")]
        assert {(e.subject, e.object) for e in graph.edges(alice)} == {
            ("alice", "billing"),
            ("billing", "ledger"),
        }
        owned = next(e for e in graph.edges(alice) if e.subject == "alice")
        with pytest.raises(UserInputError, match="no current edge"):  # bob cannot even see it
            graph.unrelate(bob, owned.id)
        graph.set_fact(bob, "ci", "buildkite", scope="project")  # shared: replaces alice's value
        assert _value(alice, "ci", "project") == "buildkite"

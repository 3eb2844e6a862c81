"""MemoryStore on both backends (a real SQLite file, a real PostgreSQL schema): remember, recall,
versions, history, secrets, graph. The default-path test is about the SQLite file layout and
stays SQLite-only."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from contextos.errors import StoreError, UserInputError
from contextos.memory import MemoryStore
from contextos.memory.graph import edges, fact, relate, set_fact, unrelate
from contextos.secrets import find_secrets, redact
from tests.conftest import Backend, HashingEmbedder


def day(year: int, month: int = 1, d: int = 1) -> datetime:
    return datetime(year, month, d, tzinfo=UTC)


@pytest.fixture
def store(backend: Backend) -> MemoryStore:
    s = backend.memory(embedder=HashingEmbedder())
    yield s  # type: ignore[misc]
    s.close()


def test_default_path_is_under_contextos_home(isolated_home: Path) -> None:
    with MemoryStore.open() as s:
        assert s.path == isolated_home / "memory.db"
    assert (isolated_home / "memory.db").is_file()


def test_explicit_remember_scores_5_and_is_recalled(store: MemoryStore) -> None:
    memory = store.remember("The user prefers pytest over unittest", tag="testing")
    store.remember("The user deploys with docker compose", tag="deploy")
    assert (memory.score, memory.tag, memory.scope, memory.valid_to) == (5, "testing", "user", None)
    hits = store.recall("which test framework does the user like?", k=2)
    assert hits[0].memory == memory
    assert hits[0].score >= hits[-1].score


def test_remembering_the_same_text_twice_stores_it_once(store: MemoryStore) -> None:
    first = store.remember("Use  ruff for linting")
    again = store.remember("use ruff for LINTING")
    assert again == first
    assert len(store.memories()) == 1


def test_lexical_only_store_recalls_without_an_embedder(backend: Backend) -> None:
    with backend.memory("m") as s:
        s.add_many([{"text": "Caroline went to the LGBTQ support group"}, {"text": "Mel paints"}])
        hits = s.recall("When did Caroline go to the support group?")
        assert [h.memory.text for h in hits] == ["Caroline went to the LGBTQ support group"]


def test_scope_filter_returns_only_that_scope(store: MemoryStore) -> None:
    store.remember("Tabs for indentation in this project", scope="project")
    store.remember("Tabs everywhere for me", scope="user")
    assert {h.memory.scope for h in store.recall("tabs", scope="project")} == {"project"}
    assert {h.memory.scope for h in store.recall("tabs")} == {"project", "user"}
    with pytest.raises(UserInputError, match="invalid scope"):
        store.recall("tabs", scope="team")


def test_as_of_time_travel_sees_the_version_valid_then(store: MemoryStore) -> None:
    old = store.remember("The user lives in Paris", valid_from=day(2020))
    new = store.edit(old.id, "The user lives in Berlin")
    assert [h.memory.id for h in store.recall("where does the user live", as_of=day(2021))] == [
        old.id
    ]
    assert [h.memory.id for h in store.recall("where does the user live")] == [new.id]
    assert store.recall("where does the user live", as_of=day(2019)) == []


def test_edit_keeps_the_old_version_closed_and_both_in_history(store: MemoryStore) -> None:
    old = store.remember("I love tabs", tag="code-style")
    new = store.edit(old.id, "I hate tabs")
    closed = store.get(old.id)
    assert closed.valid_to is not None and closed.superseded_by == new.id
    assert closed.text == "I love tabs"
    actions = [(e.target, e.action) for e in store.history(new.id)]
    assert actions == [(old.id, "ADD"), (new.id, "UPDATE"), (old.id, "UPDATE")]
    with pytest.raises(UserInputError, match="no longer current"):
        store.edit(old.id, "again")


def test_forget_hides_a_memory_for_good_and_is_logged(store: MemoryStore) -> None:
    memory = store.remember("The user's cat is called Miso")
    store.forget(memory.id, reason="user asked")
    assert store.recall("cat name") == []
    assert store.get(memory.id).forgotten_at is not None
    assert [e.action for e in store.history(memory.id)] == ["ADD", "FORGET"]
    assert store.history(memory.id)[-1].reason == "user asked"


def test_unknown_id_is_a_user_error(store: MemoryStore) -> None:
    with pytest.raises(UserInputError, match="unknown memory id 'nope'"):
        store.get("nope")


def test_history_and_memories_cannot_be_deleted_or_rewritten(
    store: MemoryStore, backend: Backend
) -> None:
    memory = store.remember("Keep everything")
    conn = store.connection
    refused = sqlite3.DatabaseError if backend.name == "sqlite" else StoreError
    with pytest.raises(refused, match="append-only"):
        conn.execute("UPDATE history SET reason = 'x'")
    with pytest.raises(refused, match="append-only"):
        conn.execute("DELETE FROM history")
    with pytest.raises(refused, match="never deleted"):
        conn.execute("DELETE FROM memories WHERE id = ?", (memory.id,))


@pytest.mark.parametrize(
    "text",
    [
        "my openai key is sk-proj-abcdefghijklmnopqrstuvwxyz012345",
        "use AKIAABCDEFGHIJKLMNOP for the bucket",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
        "github token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "password=hunter2hunter2",
        "export ANTHROPIC_API_KEY=sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
    ],
)
def test_secrets_are_refused_on_remember_and_redacted_on_ingest(
    store: MemoryStore, text: str
) -> None:
    with pytest.raises(UserInputError, match="secret"):
        store.remember(text)
    (ingested,) = store.add_many([{"text": text}])
    assert find_secrets(ingested.text) == [] and "[REDACTED:" in ingested.text
    assert ingested.text == redact(text)


def test_plain_prose_is_not_taken_for_a_secret() -> None:
    for text in ["the token is verified", "I love tabs", "password reset emails go to ops"]:
        assert find_secrets(text) == []


def test_add_many_validates_everything_before_writing(store: MemoryStore) -> None:
    good = {"text": "fine", "valid_from": day(2023, 5, 8), "source": "c1:D1:1"}
    with pytest.raises(UserInputError, match="invalid tag"):
        store.add_many([good, {"text": "bad", "tag": "no spaces"}])
    with pytest.raises(UserInputError, match="keys must be"):
        store.add_many([{"text": "x", "colour": "red"}])
    assert store.memories() == []
    (memory,) = store.add_many([good])
    assert (memory.valid_from, memory.source, memory.score) == (day(2023, 5, 8), "c1:D1:1", 5)


def test_bad_fields_are_user_errors(store: MemoryStore) -> None:
    with pytest.raises(UserInputError, match="empty memory"):
        store.remember("   ")
    with pytest.raises(UserInputError, match="invalid score"):
        store.remember("x", score=7)
    with pytest.raises(UserInputError, match="empty query"):
        store.recall(" ")


def test_opening_with_an_embedder_backfills_vectors(backend: Backend) -> None:
    with backend.memory("m") as s:
        s.add_many([{"text": "alpha beta"}, {"text": "gamma delta"}])
    embedder = HashingEmbedder()
    with backend.memory("m", embedder=embedder) as s:
        assert all(m.embedding is not None for m in s.memories())
        assert s.recall("gamma")[0].memory.text == "gamma delta"
    calls = embedder.calls
    with backend.memory("m", embedder=embedder):
        assert embedder.calls == calls


def test_newer_schema_is_refused(backend: Backend) -> None:
    with backend.memory("m") as s:
        s.connection.execute("INSERT INTO schema_migrations(version, name) VALUES (99, 'future')")
    with pytest.raises(StoreError, match="newer"):
        backend.memory("m")


def test_edges_and_facts_are_versioned_next_to_memories(store: MemoryStore) -> None:
    edge = relate(store, "user", "works_on", "contextos", valid_from=day(2024))
    assert relate(store, "user", "works_on", "contextos") == edge
    assert edges(store, "contextos") == [edge]
    closed = unrelate(store, edge.id)
    assert closed.valid_to is not None and edges(store, "contextos") == []
    assert edges(store, "contextos", as_of=day(2024, 6)) == [closed]
    first = set_fact(store, "editor", "vim", valid_from=day(2022))
    second = set_fact(store, "editor", "helix", valid_from=day(2024))
    assert fact(store, "editor") == second
    then = fact(store, "editor", as_of=day(2023))
    assert then is not None and (then.id, then.value) == (first.id, "vim")
    actions = store.connection.execute(
        "SELECT kind, action FROM history WHERE kind IN ('edge', 'fact') ORDER BY id"
    ).fetchall()
    assert [tuple(r) for r in actions] == [
        ("edge", "ADD"),
        ("edge", "INVALIDATE"),
        ("fact", "ADD"),
        ("fact", "UPDATE"),
    ]


@pytest.mark.slow
def test_default_model_recalls_paraphrases_with_no_shared_words(default_model: Path) -> None:
    from contextos.embed import resolve_embedder
    from contextos.settings import Settings

    embedder, warnings = resolve_embedder(Settings())
    assert embedder is not None and warnings == []
    with MemoryStore.open(embedder=embedder) as s:
        s.add_many(
            [
                {"text": text}
                for text in (
                    "Adopted a puppy last spring",
                    "Deploys services on kubernetes",
                    "Drinks green tea every morning",
                    "Is learning the violin",
                )
            ]
        )
        tops = [
            s.recall(q, k=1)[0].memory.text
            for q in (
                "does the user have a dog?",
                "favourite beverage",
                "musical instrument practice",
            )
        ]
    assert tops == [
        "Adopted a puppy last spring",
        "Drinks green tea every morning",
        "Is learning the violin",
    ]

"""The same memories recalled on SQLite and on PostgreSQL rank the same: equal ids and equal
scores for every query, lexical-only and with vectors, with closed, forgotten, scoped and
back-dated rows in the mix (the recall snapshot is built from the rows each backend returns)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from contextos.memory import Memory, MemoryStore
from contextos.memory.ingest import build_memory, embed_memories
from contextos.memory.versions import add, forget, supersede
from tests.conftest import Backend, HashingEmbedder

_SUBJECTS = [
    "the user",
    "the team",
    "our CI",
    "the payments service",
    "the ledger",
    "the mobile app",
]
_VERBS = [
    "prefers",
    "deploys with",
    "tests with",
    "depends on",
    "replaced",
    "monitors",
    "caches in",
]
_OBJECTS = [
    "pytest",
    "docker compose",
    "kubernetes",
    "redis",
    "postgres",
    "tabs",
    "spaces",
    "ruff",
    "mypy",
    "grafana",
    "nix",
    "uv",
    "terraform",
    "the staging cluster",
    "feature flags",
    "nightly builds",
    "blue-green deploys",
]
_TAILS = ["", " on Fridays", " since 2023", " for every release", " in production", " locally"]

QUERIES = [
    "what does the user prefer?",
    "how do we deploy the payments service",
    "redis cache",
    "which tools does CI test with",
    "ledger postgres",
    "nightly builds on Fridays",
    "feature flags in production",
    "tabs or spaces",
    "grafana monitors",
    "terraform kubernetes staging cluster",
    "mobile app",
    "nothing matches xyzzy",
]


def corpus(n: int = 300) -> list[Memory]:
    """``n`` deterministic memories: runs that share a start time (sessions) and single ones."""
    rng = random.Random(13)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        text = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
        text += rng.choice(_TAILS) + f" (note {i})"
        scope = rng.choice(["user", "user", "project", "agent"])
        when = start + timedelta(days=i // 3 if i % 5 else i)
        tag = rng.choice(["tooling", "deploy", "code-style", "general"])
        out.append(build_memory(text, tag, scope, f"s{i // 3}", when, rng.randint(3, 5)))
    return out


def fill(store: MemoryStore, memories: list[Memory], edits: list[Memory], model: str) -> None:
    """The same rows, in the same order, with the same ids: then some edits and forgets."""
    with store.transaction() as conn:
        add(conn, memories, embed_model=model, reason="parity")
    with store.transaction() as conn:
        for old, new in zip(memories[::40], edits, strict=True):
            supersede(conn, old.id, new, action="UPDATE", reason="parity", embed_model=model)
        for gone in memories[7::50]:
            forget(conn, gone.id, "parity")


@pytest.mark.parametrize("vectors", [False, True], ids=["lexical", "hybrid"])
def test_both_backends_rank_the_same_memories_the_same(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, vectors: bool
) -> None:
    embedder = HashingEmbedder() if vectors else None
    memories = embed_memories(embedder, corpus())
    edits = embed_memories(
        embedder,
        [
            build_memory(m.text.replace("prefers", "now prefers"), m.tag, m.scope, None, None, 4)
            for m in memories[::40]
        ],
    )
    model = embedder.name if embedder else "none"
    sqlite = Backend("sqlite", tmp_path_factory.mktemp("parity"))
    postgres = Backend("postgres", sqlite.tmp, database_url)
    rankings = []
    for backend in (sqlite, postgres):
        with backend.memory(embedder=embedder) as store:
            fill(store, memories, edits, model)
            rankings.append(
                [
                    [(h.memory.id, h.score) for h in store.recall(q, k=10, scope=scope, as_of=at)]
                    for q in QUERIES
                    for scope in (None, "project")
                    for at in (None, datetime(2024, 3, 1, tzinfo=UTC))
                ]
            )
    on_sqlite, on_postgres = rankings
    assert sum(len(r) for r in on_sqlite) > 300  # the queries do find things
    assert on_postgres == on_sqlite

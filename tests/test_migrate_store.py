"""``store.migrate``: memories and sessions copied SQLite → PostgreSQL → SQLite on a real
embedded PostgreSQL, compared table by table with the original, and recalled the same way."""

from __future__ import annotations

import os
import secrets
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contextos.context.session import Compaction, SessionStore
from contextos.errors import StoreError, UserInputError
from contextos.llm import ScriptedLLM
from contextos.memory import MemoryStore
from contextos.memory.graph import relate, set_fact, unrelate
from contextos.memory.jobs import ExtractionQueue
from contextos.store.db import Connection
from contextos.store.migrate import TABLES, TargetNotEmpty, dump, migrate_stores, open_store
from tests.conftest import HashingEmbedder


@pytest.fixture
def url(database_url: str) -> str:
    """The run's shared embedded PostgreSQL (tests/conftest.py), with a schema prefix of this
    test's own."""
    return database_url


def fill(home: Path) -> None:
    """A memory store and a session store with a row in every table: every scope and owner,
    edited, forgotten and closed versions, vectors, edges, facts, a job; sessions with a
    handoff parent, tool calls and compactions. Text with quotes, ``?``, ``%`` and non-ASCII."""
    home.mkdir(parents=True, exist_ok=True)
    with MemoryStore.open(home / "memory.db", embedder=HashingEmbedder()) as store:
        first = store.remember("we never mock the database", tag="testing", scope="project")
        store.remember("payments go through the ledger service", tag="arch", scope="project")
        store.remember("I prefer 'short' answers? 100% of the time", scope="user")
        store.remember("the agent retries flaky tests twice", tag="ci", scope="agent")
        store.as_owner("alice").remember("alice reviews the café migrations", scope="user")
        store.edit(first.id, "we never mock the database in integration tests")
        store.forget(store.remember("a temporary note").id)
        store.add_many(
            [{"text": f"module {i} owns table t{i}", "tag": "owners"} for i in range(30)]
        )
        edge = relate(store, "payments", "calls", "ledger", scope="project")
        relate(store, "ledger", "writes", "postgres", scope="project")
        unrelate(store, edge.id)
        set_fact(store, "python", "3.12", scope="project")
        set_fact(store, "python", "3.13", scope="project")
        ExtractionQueue(store, ScriptedLLM()).enqueue(
            [{"role": "user", "content": "remember that deploys happen on Fridays"}]
        )
    with SessionStore.open(home / "sessions.db") as sessions:
        sessions.append("main", "user", "fix the flaky test")
        sessions.append("main", "assistant", "", tool="run", args={"cmd": "pytest -x"})
        sessions.append("main", "tool", "1 failed", ok=False)
        sessions.append("next-1", "user", "continue from the handoff", parent="main")
        sessions.save_compaction(Compaction("main", "summary", 3, '{"goal": "fix"}', "m"))
        sessions.save_compaction(Compaction("main", "handoff", 3, "continue with …", None))


def dumps(where: str, sqlite_dir: Path | None = None) -> dict[str, Any]:
    out = {}
    for store in TABLES:
        conn, _ = open_store(where, store, sqlite_dir=sqlite_dir, create=False)
        assert conn is not None
        try:
            out[store] = dump(conn, store)
        finally:
            conn.close()
    return out


def ranking(store: MemoryStore) -> list[tuple[str, float]]:
    with store:
        hits = store.recall("database tests ledger module", k=12, expand=False)
    return [(h.memory.id, round(h.score, 9)) for h in hits]


def test_sqlite_to_postgres_and_back_keeps_every_row_of_every_table(
    url: str, isolated_home: Path, tmp_path: Path
) -> None:
    fill(isolated_home)
    original = dumps("sqlite")
    assert all(original["memory"].values()) and all(original["sessions"].values())

    there = migrate_stores("sqlite", url)
    back = migrate_stores(url, "sqlite", sqlite_dir=tmp_path / "back")

    assert dumps(url) == original
    assert dumps("sqlite", tmp_path / "back") == original
    counts = {s["store"]: s["tables"] for s in there}
    assert counts == {s["store"]: s["tables"] for s in back}
    assert counts == {
        store: {table: len(rows) for table, rows in tables.items()}
        for store, tables in original.items()
    }


def test_the_copy_recalls_the_same_memories_in_the_same_order(
    url: str, isolated_home: Path, tmp_path: Path
) -> None:
    fill(isolated_home)
    migrate_stores("sqlite", url)
    migrate_stores(url, "sqlite", sqlite_dir=tmp_path / "back")
    embedder = HashingEmbedder()
    expected = ranking(MemoryStore.open(isolated_home / "memory.db", embedder=embedder))
    assert len(expected) == 12
    on_pg = ranking(MemoryStore.open(database_url=url, embedder=embedder, owner=""))
    back = ranking(MemoryStore.open(tmp_path / "back" / "memory.db", embedder=embedder))
    assert on_pg == expected
    assert back == expected


def test_writes_after_the_copy_get_new_keys_on_postgres(url: str, isolated_home: Path) -> None:
    fill(isolated_home)
    migrate_stores("sqlite", url)
    before = dumps(url)
    with MemoryStore.open(database_url=url, owner="") as store:
        memory = store.remember("a memory written on the team server", scope="project")
        relate(store, "a", "b", "c", scope="project")
        set_fact(store, "node", "22", scope="project")
        ExtractionQueue(store, ScriptedLLM()).enqueue([{"role": "user", "content": "hi"}])
    with SessionStore.open(database_url=url) as sessions:
        sessions.save_compaction(Compaction("main", "summary", 3, "{}", None))
    after = dumps(url)
    for store, tables in before.items():
        for table, rows in tables.items():
            if table != "meta":  # the generation moved on
                assert after[store][table][: len(rows)] == rows, table
    seqs = [dict(row)["seq"] for row in after["memory"]["memories"]]
    assert seqs == sorted(seqs) and dict(after["memory"]["memories"][-1])["id"] == memory.id


def test_a_non_empty_target_is_refused_and_left_as_it_was(url: str, isolated_home: Path) -> None:
    fill(isolated_home)
    migrate_stores("sqlite", url)
    copied = dumps(url)
    with pytest.raises(TargetNotEmpty, match=r"already holds rows \(memories\)") as caught:
        migrate_stores("sqlite", url)
    assert caught.value.exit_code == 2
    assert dumps(url) == copied


def test_a_failure_half_way_leaves_the_target_store_empty(url: str, isolated_home: Path) -> None:
    fill(isolated_home)
    conn = sqlite3.connect(isolated_home / "memory.db")
    with conn:  # PostgreSQL text cannot hold NUL: the copy fails at jobs, after memories
        conn.execute("INSERT INTO jobs(key, messages) VALUES ('nul', ?)", ("a\x00b",))
    conn.close()
    with pytest.raises(StoreError, match="NUL"):
        migrate_stores("sqlite", url)
    memory, _ = open_store(url, "memory", create=False)
    assert memory is not None
    try:
        assert {t: len(rows) for t, rows in dump(memory, "memory").items()} == {
            "memories": 0,
            "memories_fts": 0,
            "edges": 0,
            "facts": 0,
            "history": 0,
            "jobs": 0,
            "meta": 1,
        }
    finally:
        memory.close()


def test_a_failing_second_store_says_the_first_one_was_copied(
    url: str, isolated_home: Path
) -> None:
    fill(isolated_home)
    with SessionStore.open(isolated_home / "sessions.db") as sessions:
        sessions.append("nul", "user", "hello")
    conn = sqlite3.connect(isolated_home / "sessions.db")
    with conn:  # an event stored before append replaced NUL; PostgreSQL text cannot hold it
        conn.execute(
            "INSERT INTO events(session_id, seq, role, content) VALUES ('nul', 2, 'user', ?)",
            ("a\x00b",),
        )
    conn.close()
    with pytest.raises(StoreError, match=r"sessions store was not copied .* but memory was: "):
        migrate_stores("sqlite", url)
    copied = dumps(url)
    assert copied["memory"] == dumps("sqlite")["memory"]
    assert copied["sessions"] == {"sessions": [], "events": [], "compactions": []}


def test_owner_gives_a_personal_store_to_a_team_user_and_back(
    url: str, isolated_home: Path, tmp_path: Path
) -> None:
    fill(isolated_home)
    migrate_stores("sqlite", url, owner="bob")
    owners = {dict(r)["owner"] for r in dumps(url)["memory"]["memories"]}
    assert owners == {"bob", "alice"}
    with MemoryStore.open(database_url=url, owner="bob") as store:
        hits = store.recall("short answers", k=1, expand=False)
    assert hits[0].memory.text == "I prefer 'short' answers? 100% of the time"
    migrate_stores(url, "sqlite", sqlite_dir=tmp_path / "back", owner="bob")
    assert dumps("sqlite", tmp_path / "back") == dumps("sqlite")


def test_every_table_of_both_schemas_is_copied(url: str, isolated_home: Path) -> None:
    def tables(conn: Connection) -> set[str]:
        if isinstance(conn, sqlite3.Connection):
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            names = {r[0] for r in rows if not r[0].startswith(("sqlite_", "memories_fts_"))}
        else:
            rows = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                (conn.schema,),  # type: ignore[attr-defined]
            )
            names = {r[0] for r in rows}
        return names - {"schema_migrations"}

    for store, specs in TABLES.items():
        for where in ("sqlite", url):
            conn, _ = open_store(where, store, create=True)
            assert conn is not None
            try:
                assert tables(conn) == {t.name for t in specs}, (store, where)
            finally:
                conn.close()


def test_nothing_to_copy_and_bad_places_are_user_errors(url: str, tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="nothing to copy"):
        migrate_stores(url, "sqlite")
    with pytest.raises(UserInputError, match="nothing to copy"):
        migrate_stores("sqlite", url, sqlite_dir=tmp_path / "empty")
    with pytest.raises(UserInputError, match="the same"):
        migrate_stores("sqlite", "sqlite")
    with pytest.raises(UserInputError, match="--to 'mysql://u:\\*\\*\\*@h/db'"):
        migrate_stores("sqlite", "mysql://u:secret@h/db")
    with pytest.raises(UserInputError, match="--owner"):
        migrate_stores(url, url + "&application_name=x", owner="bob")
    assert os.environ["CONTEXTOS_DATABASE_SCHEMA"].startswith("t_")


_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)
_MEMORY = st.tuples(
    st.integers(1, 3),  # gap before this row's seq: keys need not be dense
    _TEXT,
    st.sampled_from(["user", "project", "agent"]),
    st.sampled_from(["", "alice", "bob"]),
    st.none() | st.binary(max_size=48),
    st.none() | _TEXT,
)


@settings(max_examples=10)  # each example creates a PostgreSQL schema and two SQLite files
@given(rows=st.lists(_MEMORY, max_size=12), reasons=st.lists(_TEXT, max_size=6))
def test_any_rows_survive_the_round_trip_unchanged(
    pg_server: str, rows: list[tuple[Any, ...]], reasons: list[str]
) -> None:
    from contextos.memory.schema import MIGRATIONS
    from contextos.store.backends import open_pg
    from contextos.store.db import connect
    from contextos.store.migrate import copy_store

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        patch.setenv("CONTEXTOS_DATABASE_SCHEMA", f"t_{secrets.token_hex(5)}")
        source = connect(Path(tmp) / "a.db", MIGRATIONS)
        seq = 0
        for i, (gap, text, scope, owner, vector, valid_to) in enumerate(rows):
            seq += gap
            source.execute(
                "INSERT INTO memories(seq, id, tag, text, scope, source, score, created_at,"
                " valid_from, valid_to, embedding, owner) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    seq,
                    f"m{i}",
                    "t",
                    text,
                    scope,
                    text,
                    1 + i % 5,
                    "c",
                    "v",
                    valid_to,
                    vector,
                    owner,
                ),
            )
            source.execute(
                "INSERT INTO memories_fts(rowid, body, names) VALUES (?, ?, ?)", (seq, text, owner)
            )
        for reason in reasons:
            source.execute(
                "INSERT INTO history(kind, target, action, before, after, reason)"
                " VALUES ('memory', 'm0', 'ADD', NULL, ?, ?)",
                (reason, reason),
            )
        team = open_pg(pg_server, "memory")
        back = connect(Path(tmp) / "b.db", MIGRATIONS)
        try:
            copy_store(source, team, "memory")
            copy_store(team, back, "memory")
            assert dump(team, "memory") == dump(source, "memory")
            assert dump(back, "memory") == dump(source, "memory")
        finally:
            for conn in (source, team, back):
                conn.close()

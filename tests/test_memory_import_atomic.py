"""``memory import`` is all or nothing: every record of every file is validated before anything
is written, a bad record names its file, line, record and id, and the store is then exactly as
it was (memories and history). CRLF line ends and a UTF-8 byte-order mark are accepted. On both
backends; the CLI test runs on SQLite (it fails before opening a store)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from contextos.errors import StoreError, UserInputError
from contextos.memory import MemoryStore
from contextos.memory.portable import export_markdown, import_markdown, render_file
from contextos.memory.records import Memory, from_iso
from tests.conftest import Backend

GOOD = {
    "scope": '"user"',
    "source": "null",
    "score": "4",
    "created_at": '"2025-01-07T10:00:00.000000Z"',
    "valid_from": '"2025-01-07T10:00:00.000000Z"',
    "valid_to": "null",
    "superseded_by": "null",
    "forgotten_at": "null",
    "keywords": '["tabs"]',
}


def record(ident: str, text: str, **fields: str) -> str:
    front = {"id": f'"{ident}"', **GOOD, **fields}
    lines = [f"{k}: {v}" for k, v in front.items() if v != "<absent>"]
    return "---\n" + "\n".join(lines) + "\n---\n" + text + "\n\n"


def snapshot(store: MemoryStore) -> tuple[list[Memory], int]:
    rows = store.connection.execute("SELECT count(*) FROM history").fetchone()
    return store.memories(include_closed=True), int(rows[0])


@pytest.fixture
def store(backend: Backend) -> Iterator[MemoryStore]:
    with backend.memory("m") as opened:
        opened.remember("The user prefers tabs.", tag="code-style")
        opened.remember("Deploys go through nix.", tag="deploy")
        yield opened


def write_import(directory: Path, store: MemoryStore, bad: str) -> Path:
    """a.md: one new memory and an edit of a stored one; b.md: good, ``bad``, good; c.md: good.
    Returns b.md."""
    directory.mkdir()
    tabs = next(m for m in store.memories() if m.tag == "code-style")
    edited = render_file([tabs]).replace("prefers tabs", "prefers spaces")
    (directory / "a.md").write_text(record("aaaaaaaaaaa1", "Uses uv.") + edited)
    b = directory / "b.md"
    b.write_text(record("bbbbbbbbbbb1", "One.") + bad + record("bbbbbbbbbbb3", "Three."))
    (directory / "c.md").write_text(record("ccccccccccc1", "Last."))
    return b


BAD_RECORDS = {
    "id with a slash": (record("../etc", "Two."), "invalid id '../etc'"),
    "id missing": (record("x", "Two.", id="<absent>"), "'id' must be a string"),
    "empty text": (record("bbbbbbbbbbb2", "   "), "empty text"),
    "valid_to before valid_from": (
        record("bbbbbbbbbbb2", "Two.", valid_to='"2024-01-01T00:00:00Z"'),
        "valid_to is before valid_from",
    ),
    "keywords a string": (
        record("bbbbbbbbbbb2", "Two.", keywords='"tabs"'),
        "'keywords' must be a list of strings",
    ),
    "keywords with a number": (
        record("bbbbbbbbbbb2", "Two.", keywords='["tabs", 3]'),
        "'keywords' must be a list of strings",
    ),
    "score 99": (record("bbbbbbbbbbb2", "Two.", score="99"), "invalid score 99"),
    "score 2.5": (record("bbbbbbbbbbb2", "Two.", score="2.5"), "invalid score 2.5"),
    "score true": (record("bbbbbbbbbbb2", "Two.", score="true"), "invalid score True"),
    "date a number": (
        record("bbbbbbbbbbb2", "Two.", created_at="20250107"),
        "'created_at' must be a string",
    ),
    "date out of range": (
        record("bbbbbbbbbbb2", "Two.", valid_from='"9999-12-31T23:59:59-05:00"'),
        "date-time out of range",
    ),
    "unknown field": (record("bbbbbbbbbbb2", "Two.", valid_too="null"), "unknown field"),
    "secret in the text": (
        record("bbbbbbbbbbb2", "key AKIAIOSFODNN7EXAMPLE here"),
        "secret",
    ),
    "deeply nested value": (record("bbbbbbbbbbb2", "Two.", source="[" * 50_000), "nested"),
    "id twice": (record("aaaaaaaaaaa1", "Two."), "id aaaaaaaaaaa1 is also at"),
}


@pytest.mark.parametrize("bad", list(BAD_RECORDS), ids=list(BAD_RECORDS))
def test_a_bad_record_in_the_middle_changes_nothing_and_is_named(
    bad: str, store: MemoryStore, tmp_path: Path
) -> None:
    text, says = BAD_RECORDS[bad]
    before = snapshot(store)
    b = write_import(tmp_path / "in", store, text)
    with pytest.raises(UserInputError) as caught:
        import_markdown(store, tmp_path / "in")
    message = str(caught.value)
    assert message.startswith(f"{b}:") and "(record 2" in message, message
    assert says in message, message
    assert snapshot(store) == before


def test_an_edit_of_a_replaced_version_fails_before_anything_is_written(
    store: MemoryStore, tmp_path: Path
) -> None:
    tabs = next(m for m in store.memories() if m.tag == "code-style")
    store.edit(tabs.id, "The user prefers tabs, width 4.")
    before = snapshot(store)
    (tmp_path / "in").mkdir()
    stale = render_file([store.get(tabs.id)]).replace("prefers tabs.", "prefers spaces.")
    (tmp_path / "in" / "a.md").write_text(record("aaaaaaaaaaa1", "Uses uv.") + stale)
    with pytest.raises(UserInputError) as caught:
        import_markdown(store, tmp_path / "in")
    assert f"(record 2, id {tabs.id}): has new text or tag, but" in str(caught.value)
    assert "no longer current" in str(caught.value)
    assert snapshot(store) == before


def fail_half_way(store: MemoryStore, backend: Backend) -> str:
    """Make the database fail part way through a big write; return what the error says."""
    conn = store.connection
    if backend.name == "sqlite":
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 20}")  # full half-way
        return "is full"
    conn.execute(
        "CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " IF (SELECT count(*) FROM memories) > 50 THEN"
        " RAISE EXCEPTION 'could not extend file: No space left on device'; END IF;"
        " RETURN NEW; END $$"
    )
    conn.execute(
        "CREATE TRIGGER full_disk BEFORE INSERT ON memories FOR EACH ROW"
        " EXECUTE FUNCTION full_disk()"
    )
    return "No space left"


def test_a_failed_write_rolls_back_the_whole_import(
    store: MemoryStore, backend: Backend, tmp_path: Path
) -> None:
    before = snapshot(store)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.md").write_text(
        "".join(record(f"{i:012x}", f"Memory number {i}. " + "x" * 2000) for i in range(200))
    )
    says = fail_half_way(store, backend)
    with pytest.raises(StoreError, match=says):
        import_markdown(store, tmp_path / "in")
    assert snapshot(store) == before


def test_a_good_import_is_written_whole(store: MemoryStore, tmp_path: Path) -> None:
    write_import(tmp_path / "in", store, record("bbbbbbbbbbb2", "Two."))
    counts = import_markdown(store, tmp_path / "in")
    assert counts == {"added": 5, "updated": 1, "unchanged": 0}
    texts = sorted(m.text for m in store.memories())
    assert texts == [
        "Deploys go through nix.",
        "Last.",
        "One.",
        "The user prefers spaces.",
        "Three.",
        "Two.",
        "Uses uv.",
    ]


def test_crlf_and_a_byte_order_mark_are_accepted(
    store: MemoryStore, backend: Backend, tmp_path: Path
) -> None:
    (path,) = [p for p in export_markdown(store, tmp_path / "out") if p.stem == "deploy"]
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    with backend.memory("other") as other:
        assert import_markdown(other, tmp_path / "out")["added"] == 2
        assert sorted(m.text for m in other.memories()) == sorted(m.text for m in store.memories())


def test_a_text_with_carriage_returns_survives_the_round_trip(
    backend: Backend, tmp_path: Path
) -> None:
    memory = Memory(
        id="0123456789ab",
        text="line one\r\nline two\rthree",
        created_at=from_iso("2025-01-01T00:00:00Z"),
        valid_from=from_iso("2025-01-01T00:00:00Z"),
    )
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "general.md").write_text(render_file([memory]), newline="")
    with backend.memory("m") as store:
        import_markdown(store, tmp_path / "in")
        assert store.get(memory.id) == memory


def test_the_cli_names_the_file_and_record_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    bad = tmp_path / "in" / "general.md"
    bad.write_text(record("aaaaaaaaaaa1", "One.") + record("aaaaaaaaaaa2", "Two.", score="9"))
    result = subprocess.run(
        [str(Path(sys.executable).parent / "contextos"), "memory", "import", str(tmp_path / "in")],
        capture_output=True,
        text=True,
        env={**os.environ, "CONTEXTOS_EMBEDDER": "none"},
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    (line,) = result.stderr.splitlines()
    assert result.returncode == 2
    assert (
        line
        == f"error: {bad}:15 (record 2, id aaaaaaaaaaa2): invalid score 9: scores run from 1 to 5"
    )

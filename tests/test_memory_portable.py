"""Export → import is lossless (property tests); the files are YAML front matter + Markdown."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contextos.memory import Memory, MemoryStore
from contextos.memory.portable import (
    agents_md,
    export_markdown,
    import_markdown,
    parse_file,
    render_file,
)
from contextos.memory.versions import add
from contextos.secrets import find_secrets
from tests.conftest import HashingEmbedder

times = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


def after(start: datetime) -> st.SearchStrategy[datetime]:
    """Times later than ``start``, drawn as such (a filter on ``times`` made half the examples
    invalid: it gives up when ``start`` is late)."""
    later = start.replace(tzinfo=None) + timedelta(microseconds=1)
    return st.datetimes(min_value=later, max_value=datetime(2200, 1, 2), timezones=st.just(UTC))


texts = st.text(min_size=1, max_size=200).filter(lambda t: t.strip() and not find_secrets(t))
tags = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
ids = st.text(alphabet="0123456789abcdef", min_size=12, max_size=12)


@st.composite
def memories(draw: st.DrawFn) -> Memory:
    start = draw(times)
    return Memory(
        id=draw(ids),
        text=draw(texts),
        tag=draw(tags),
        scope=draw(st.sampled_from(["user", "project", "agent"])),
        source=draw(st.none() | st.text(max_size=30)),
        score=draw(st.integers(1, 5)),
        created_at=draw(times),
        valid_from=start,
        valid_to=draw(st.none() | after(start)),
        superseded_by=draw(st.none() | ids),
        forgotten_at=draw(st.none() | times),
        keywords=tuple(draw(st.lists(st.text(min_size=1, max_size=12), max_size=5))),
    )


unique_memories = st.lists(memories(), max_size=8, unique_by=lambda m: m.id)


@given(unique_memories)
def test_render_then_parse_is_the_identity(items: list[Memory]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tag.md"
        path.write_bytes(render_file(items).encode("utf-8"))
        assert parse_file(path) == items


@settings(max_examples=40)  # each example creates, fills and closes two SQLite files
@given(unique_memories)
def test_export_then_import_into_an_empty_store_is_lossless(items: list[Memory]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with MemoryStore.open(root / "a.db") as source:
            with source.transaction() as conn:
                add(conn, items, embed_model=None, reason="test")
            before = source.memories(include_closed=True)
            export_markdown(source, root / "export")
        with MemoryStore.open(root / "b.db", embedder=HashingEmbedder()) as target:
            counts = import_markdown(target, root / "export")
            after = target.memories(include_closed=True)
            assert counts == {"added": len(items), "updated": 0, "unchanged": 0}
            assert import_markdown(target, root / "export")["unchanged"] == len(items)
    key = lambda m: m.id  # noqa: E731
    assert sorted(after, key=key) == sorted(before, key=key)


def test_export_writes_one_markdown_file_per_tag_with_yaml_front_matter(tmp_path: Path) -> None:
    with MemoryStore.open(tmp_path / "m.db") as store:
        tabs = store.remember("The user prefers tabs.\n\n---\nReally.", tag="code-style")
        store.remember("The user deploys with nix.", tag="deploy")
        files = export_markdown(store, tmp_path / "out")
    assert [f.name for f in files] == ["code-style.md", "deploy.md"]
    yaml = pytest.importorskip("yaml")
    content = files[0].read_text()
    front = content.split("---\n")[1]
    assert yaml.safe_load(front) == {k: v for k, v in tabs.to_dict().items() if k != "text"}
    assert "The user prefers tabs.\n\n\\---\nReally." in content


def test_editing_an_exported_text_imports_as_a_new_version(tmp_path: Path) -> None:
    with MemoryStore.open(tmp_path / "m.db") as store:
        old = store.remember("The user prefers tabs.", tag="code-style")
        (path,) = export_markdown(store, tmp_path / "out")
        path.write_text(path.read_text().replace("prefers tabs", "prefers spaces"))
        assert import_markdown(store, tmp_path / "out") == {
            "added": 0,
            "updated": 1,
            "unchanged": 0,
        }
        (current,) = store.memories()
        assert current.text == "The user prefers spaces." and current.id != old.id
        assert store.get(old.id).superseded_by == current.id


def test_agents_md_section_lists_current_memories_by_tag(tmp_path: Path) -> None:
    with MemoryStore.open(tmp_path / "m.db") as store:
        gone = store.remember("The user likes tabs.", tag="code-style")
        store.edit(gone.id, "The user likes spaces.")
        store.remember("Run `make test` before committing.", tag="workflow")
        assert agents_md(store) == (
            "## Memories\n\n"
            "Remembered preferences and facts (exported by contextos).\n\n"
            "### code-style\n\n- The user likes spaces.\n\n"
            "### workflow\n\n- Run `make test` before committing.\n"
        )

"""Export → import is lossless (property tests); the files are YAML front matter + Markdown. The
store tests run on both backends."""

from __future__ import annotations

import secrets
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contextos.errors import UserInputError
from contextos.memory import Memory
from contextos.memory.portable import (
    agents_md,
    export_markdown,
    import_markdown,
    parse_file,
    render_file,
)
from contextos.memory.versions import add
from contextos.secrets import find_secrets
from tests.conftest import Backend, HashingEmbedder

times = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


def after(start: datetime) -> st.SearchStrategy[datetime]:
    """Times later than ``start``, drawn as such (a filter on ``times`` made half the examples
    invalid: it gives up when ``start`` is late)."""
    later = start.replace(tzinfo=None) + timedelta(microseconds=1)
    return st.datetimes(min_value=later, max_value=datetime(2200, 1, 2), timezones=st.just(UTC))


# Any character but NUL, which no store keeps (PostgreSQL text cannot hold it; records.check_text).
chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
texts = st.text(chars, min_size=1, max_size=200).filter(lambda t: t.strip() and not find_secrets(t))
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
        source=draw(st.none() | st.text(chars, max_size=30)),
        score=draw(st.integers(1, 5)),
        created_at=draw(times),
        valid_from=start,
        valid_to=draw(st.none() | after(start)),
        superseded_by=draw(st.none() | ids),
        forgotten_at=draw(st.none() | times),
        keywords=tuple(draw(st.lists(st.text(chars, min_size=1, max_size=12), max_size=5))),
    )


unique_memories = st.lists(memories(), max_size=8, unique_by=lambda m: m.id)


@given(unique_memories)
def test_render_then_parse_is_the_identity(items: list[Memory]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tag.md"
        path.write_bytes(render_file(items).encode("utf-8"))
        assert parse_file(path) == items


# Each example creates, fills and closes two stores (two fresh schemas on PostgreSQL, so the
# function-scoped backend fixture is safe to share between examples).
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(unique_memories)
def test_export_then_import_into_an_empty_store_is_lossless(
    backend: Backend, items: list[Memory]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        fresh = f"x{secrets.token_hex(4)}"  # each example its own two databases
        with backend.memory(f"{fresh}a") as source:
            with source.transaction() as conn:
                add(conn, items, embed_model=None, reason="test")
            before = source.memories(include_closed=True)
            export_markdown(source, root / "export")
        with backend.memory(f"{fresh}b", embedder=HashingEmbedder()) as target:
            counts = import_markdown(target, root / "export")
            after = target.memories(include_closed=True)
            assert counts == {"added": len(items), "updated": 0, "unchanged": 0}
            assert import_markdown(target, root / "export")["unchanged"] == len(items)
    key = lambda m: m.id  # noqa: E731
    assert sorted(after, key=key) == sorted(before, key=key)


def test_export_writes_one_markdown_file_per_tag_with_yaml_front_matter(
    backend: Backend, tmp_path: Path
) -> None:
    with backend.memory() as store:
        tabs = store.remember("The user prefers tabs.\n\n---\nReally.", tag="code-style")
        store.remember("The user deploys with nix.", tag="deploy")
        files = export_markdown(store, tmp_path / "out")
    assert [f.name for f in files] == ["code-style.md", "deploy.md"]
    yaml = pytest.importorskip("yaml")
    content = files[0].read_text()
    front = content.split("---\n")[1]
    assert yaml.safe_load(front) == {k: v for k, v in tabs.to_dict().items() if k != "text"}
    assert "The user prefers tabs.\n\n\\---\nReally." in content


def test_editing_an_exported_text_imports_as_a_new_version(
    backend: Backend, tmp_path: Path
) -> None:
    with backend.memory() as store:
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


def test_agents_md_section_lists_current_memories_by_tag(backend: Backend) -> None:
    with backend.memory() as store:
        gone = store.remember("The user likes tabs.", tag="code-style")
        store.edit(gone.id, "The user likes spaces.")
        store.remember("Run `make test` before committing.", tag="workflow")
        assert agents_md(store) == (
            "## Memories\n\n"
            "Remembered preferences and facts (exported by contextos).\n\n"
            "### code-style\n\n- The user likes spaces.\n\n"
            "### workflow\n\n- Run `make test` before committing.\n"
        )


def test_a_nul_character_is_refused_by_remember_and_import_and_dropped_on_ingest(
    backend: Backend, tmp_path: Path
) -> None:
    with backend.memory() as store:
        with pytest.raises(UserInputError, match="NUL character"):
            store.remember("tabs\x00 please")
        (ingested,) = store.add_many([{"text": "tabs\x00 please"}])
        assert ingested.text == "tabs please"
        (tmp_path / "in").mkdir()
        bad = Memory(
            id="0123456789ab",
            text="a\x00b",
            created_at=ingested.created_at,
            valid_from=ingested.valid_from,
        )
        (tmp_path / "in" / "general.md").write_text(render_file([bad]))
        with pytest.raises(UserInputError, match="NUL character"):
            import_markdown(store, tmp_path / "in")
        assert store.memories() == [ingested]

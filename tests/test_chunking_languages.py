"""Syntax chunking of PHP, Ruby, C#, Scala, Kotlin, Swift, Elixir, Haskell, Lua, shell and Zig,
and the index re-chunking every file once when the chunker changes.

Each golden file under ``fixtures/chunking`` holds a container with two or more methods, a free
function and a comment above a definition; the expected rows were read off the file by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from contextos import Workspace
from contextos.code.chunking import CHUNKER_VERSION, PARSED_LANGUAGES, chunk_file, language_for
from tests.conftest import RepoMaker
from tests.test_chunking import assert_well_formed

FIXTURES = Path(__file__).parent / "fixtures" / "chunking"

Row = tuple[str, str | None, int, int]

GOLDEN: dict[str, list[Row]] = {
    "Str.php": [
        ("module", None, 1, 5),
        ("class", "Str", 7, 30),
        ("method", "Str.snake", 16, 24),
        ("method", "Str.upper", 26, 29),
        ("function", "str", 32, 36),
    ],
    "builder.rb": [
        ("module", None, 1, 3),
        ("class", "Rack", 5, 23),
        ("class", "Rack.Builder", 6, 22),
        ("method", "Rack.Builder.app", 10, 12),
        ("method", "Rack.Builder.initialize", 14, 17),
        ("method", "Rack.Builder.use", 19, 21),
        ("function", "load_rackup", 25, 28),
    ],
    "SqlMapper.cs": [
        ("module", None, 1, 4),
        ("class", "SqlMapper", 6, 30),
        ("method", "SqlMapper.PurgeQueryCache", 15, 19),
        ("method", "SqlMapper.Count", 21, 24),
        ("method", "SqlMapper.GetColumnHash", 26, 29),
        ("class", "Identity", 32, 32),
    ],
    "Functor.scala": [
        ("module", None, 1, 3),
        ("class", "Functor", 5, 17),
        ("method", "Functor.fmap", 11, 12),
        ("method", "Functor.void", 14, 16),
        ("class", "Functor", 19, 21),
        ("method", "Functor.apply", 20, 20),
        ("function", "lift", 23, 24),
    ],
    "Job.kt": [
        ("module", None, 1, 3),
        ("class", "Job", 5, 14),
        ("class", "Job.Key", 13, 13),
        ("class", "JobImpl", 16, 32),
        ("method", "JobImpl.isActive", 17, 18),
        ("method", "JobImpl.start", 20, 22),
        ("method", "JobImpl.cancel", 24, 27),
        ("class", "JobImpl.Companion", 29, 31),
        ("method", "JobImpl.Companion.create", 30, 30),
        ("function", "Job", 34, 34),
    ],
    "Application.swift": [
        ("module", None, 1, 2),
        ("class", "Application", 4, 19),
        ("method", "Application.init", 8, 10),
        ("method", "Application.run", 12, 14),
        ("method", "Application.isBooted", 16, 18),
        ("class", "Application", 21, 25),
        ("method", "Application.shutdown", 22, 24),
        ("function", "makeApp", 27, 30),
    ],
    "conn.ex": [
        ("class", "Plug.Conn", 1, 25),
        ("method", "Plug.Conn.assign", 10, 13),
        ("method", "Plug.Conn.halt", 15, 16),
        ("method", "Plug.Conn.run_before_send", 18, 20),
        ("class", "Plug.Conn.Unfetched", 22, 24),
    ],
    "Types.hs": [
        ("module", None, 1, 7),
        ("type", "Value", 9, 14),
        ("class", "ToJSON", 16, 20),
        ("method", "ToJSON.toJSON", 17, 17),
        ("method", "ToJSON.toEncoding", 19, 20),
        ("class", "ToJSON", 22, 24),
        ("method", "ToJSON.toJSON", 23, 24),
        ("function", "isNull", 26, 29),
    ],
    "config.lua": [
        ("module", None, 1, 7),
        ("function", "M.setup", 9, 13),
        ("function", "norm", 15, 17),
        ("function", "M.headless", 19, 21),
        ("module", None, 23, 23),
    ],
    "install.sh": [
        ("module", None, 1, 3),
        ("function", "nvm_has", 5, 7),
        ("function", "nvm_install_dir", 9, 14),
        ("function", "nvm_reset", 16, 18),
        ("module", None, 20, 22),
    ],
    "clap.zig": [
        ("module", None, 1, 3),
        ("class", "Arg", 5, 17),
        ("method", "Arg.init", 10, 12),
        ("method", "Arg.hasValue", 14, 16),
        ("function", "parse", 19, 22),
        ("function", "test.parse", 24, 26),
    ],
}

NEW_LANGUAGES = {
    "php",
    "ruby",
    "csharp",
    "scala",
    "kotlin",
    "swift",
    "elixir",
    "haskell",
    "lua",
    "shell",
    "zig",
}


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_golden_files_cover_every_new_language_and_all_of_them_are_parsed() -> None:
    assert {language_for(name) for name in GOLDEN} == NEW_LANGUAGES
    assert NEW_LANGUAGES <= PARSED_LANGUAGES


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_definitions_comments_and_containers_are_chunked_along_the_syntax_tree(name: str) -> None:
    text = fixture(name)
    chunks = chunk_file(name, text)
    assert [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunks] == GOLDEN[name]
    assert_well_formed(chunks, text)


def test_a_method_carries_its_container_signature_as_context() -> None:
    chunks = chunk_file("Str.php", fixture("Str.php"))
    snake = next(c for c in chunks if c.symbol == "Str.snake")
    assert snake.context == "class Str\npublic static function snake($value, $delimiter = '_')"
    assert snake.text.startswith("    /**\n     * Convert a string to snake case.")


def test_a_class_chunk_is_an_outline_without_method_bodies() -> None:
    chunks = chunk_file("builder.rb", fixture("builder.rb"))
    builder = next(c for c in chunks if c.symbol == "Rack.Builder")
    assert builder.text.split("\n") == [
        "  # Builds a Rack application from middleware.",
        "  class Builder",
        "    attr_reader :app",
        "    def self.app(default_app = nil, &block)",
        "    def initialize(default_app = nil)",
        "    def use(middleware, *args)",
        "  end",
    ]


def truncations(text: str) -> list[str]:
    """The text cut in the middle of its first container, and with an extra unbalanced brace."""
    lines = text.split("\n")
    return ["\n".join(lines[: len(lines) // 2]), text.replace("{", "{{", 1), "}\n" + text]


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_truncated_and_unbalanced_files_still_cover_every_line(name: str) -> None:
    for text in truncations(fixture(name)):
        assert_well_formed(chunk_file(name, text), text)
        assert_well_formed(chunk_file(name, text, window_lines=3, max_chunk_lines=4), text)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_invalid_utf8_decoded_with_replacement_does_not_raise(name: str) -> None:
    data = fixture(name).encode() + b"\n\xff\xfe caf\xc3\xa9 \xe2\x82\n" + "ünï ✓\n".encode()
    text = data.decode("utf-8", errors="replace")
    assert_well_formed(chunk_file(name, text), text)


def test_a_haskell_function_with_several_equations_is_one_definition() -> None:
    text = "f :: Int -> Int\nf 0 = 1\n\nf n = n * f (n - 1)\n\ng = f 3\n"
    assert [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunk_file("a.hs", text)] == [
        ("function", "f", 1, 4),
        ("function", "g", 6, 6),
    ]


def test_csharp_block_namespaces_are_not_part_of_symbols() -> None:
    text = (
        "namespace A.B\n{\n    class C\n    {\n        void M()\n        {\n        }\n    }\n}\n"
    )
    chunks = chunk_file("c.cs", text)
    assert [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunks] == [
        ("module", None, 1, 2),
        ("class", "C", 3, 9),
        ("method", "C.M", 5, 7),
    ]


def test_index_rechunks_every_file_once_when_the_chunker_version_changes(
    make_repo: RepoMaker,
) -> None:
    repo = make_repo({"lib/builder.rb": fixture("builder.rb"), "a.py": "def a():\n    pass\n"})
    with Workspace(repo, embedder=None) as ws:
        first = ws.index()
        kinds = "SELECT kind, symbol FROM chunks WHERE path = 'lib/builder.rb' ORDER BY start_line"
        expected = ws.conn.execute(kinds).fetchall()
        assert ("method", "Rack.Builder.use") in [tuple(r) for r in expected]
        with ws.conn:
            ws.conn.execute("UPDATE meta SET value = '1' WHERE key = 'chunker'")
            ws.conn.execute("UPDATE chunks SET kind = 'window', symbol = NULL")
        rechunked = ws.index()
        assert (rechunked.files_changed, rechunked.files_unchanged) == (2, 0)
        assert rechunked.chunks_written == first.chunks_written
        assert ws.conn.execute(kinds).fetchall() == expected
        stored = ws.conn.execute("SELECT value FROM meta WHERE key = 'chunker'").fetchone()[0]
        assert stored == CHUNKER_VERSION
        again = ws.index()
        assert (again.files_changed, again.chunks_written, again.files_unchanged) == (0, 0, 2)
        assert ws.verify() == []

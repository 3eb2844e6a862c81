"""Syntax chunking of PHP, Ruby, C#, Scala, Kotlin, Swift, Elixir, Haskell, Lua, shell and Zig,
the definition forms of every parsed language, and the index re-chunking every file once when the
chunker changes.

Each golden file under ``fixtures/chunking`` holds a container with two or more methods, a free
function and a comment above a definition; the expected rows were read off the file by hand.
Each file under ``fixtures/chunking/forms`` holds the ways its language defines a name (type
aliases, grouped and multi-line bindings, macros, export macros, ``declare``, ...) and forms that
define nothing (one-line constants, prototypes, abstract methods). ``FORMS`` records what the
chunker makes of them today, misses included: in module chunks stay TypeScript ``const X =
<call>``, Go ``var``/``const``, Rust ``static``, multi-line ``#define``, C++ ``using`` aliases,
concepts and ``class FMT_API x``, ``declare`` forms, Kotlin/Swift/Scala type aliases, C#
delegates, Ruby ``X = Struct.new do``. Rules for all of them were measured and reverted (the
"definition forms" paragraph of ``docs/benchmarks.md``); a rule added later changes these rows.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from contextos import Workspace
from contextos.code.chunking import CHUNKER_VERSION, PARSED_LANGUAGES, chunk_file, language_for
from contextos.code.symbols import defined_symbols
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

FORMS: dict[str, list[Row]] = {
    "Forms.cs": [
        ("module", None, 1, 5),
        ("class", "IMessagePackFormatter", 7, 10),
        ("class", "MessagePackSerializer", 12, 20),
        ("method", "MessagePackSerializer.Serialize", 14, 17),
        ("method", "MessagePackSerializer.Count", 19, 19),
        ("class", "Point", 22, 22),
        ("class", "Mode", 24, 24),
    ],
    "Forms.hs": [
        ("module", None, 1, 3),
        ("type", "Value", 5, 8),
        ("type", "Parser", 10, 10),
        ("type", "Pair", 12, 12),
        ("class", "FromJSON", 14, 15),
        ("method", "FromJSON.parseJSON", 15, 15),
        ("class", "FromJSON", 17, 18),
        ("method", "FromJSON.parseJSON", 18, 18),
        ("function", "decode", 20, 21),
    ],
    "Forms.java": [
        ("module", None, 1, 1),
        ("class", "Shape", 3, 9),
        ("method", "Shape.name", 6, 8),
        ("class", "Point", 11, 15),
        ("method", "Point.Point", 12, 14),
        ("class", "Marker", 17, 17),
        ("class", "StringUtils", 19, 29),
        ("method", "StringUtils.isEmpty", 24, 26),
        ("class", "StringUtils.Mode", 28, 28),
    ],
    "Forms.kt": [
        ("module", None, 1, 3),
        ("class", "Flow", 5, 7),
        ("class", "FlowCollector", 9, 11),
        ("class", "Point", 13, 13),
        ("class", "Result", 15, 17),
        ("class", "Result.Empty", 16, 16),
        ("function", "shout", 19, 19),
        ("module", None, 21, 23),
        ("function", "isActive", 25, 26),
        ("class", "Mode", 28, 28),
    ],
    "Forms.scala": [
        ("module", None, 1, 3),
        ("class", "Monad", 5, 10),
        ("method", "Monad.map", 8, 9),
        ("class", "EitherT", 12, 12),
        ("class", "EitherT", 14, 18),
        ("method", "EitherT.left", 17, 17),
        ("class", "Color", 20, 22),
        ("class", "Bounded", 24, 26),
    ],
    "Forms.swift": [
        ("module", None, 1, 1),
        ("class", "Middleware", 3, 5),
        ("class", "Application", 7, 9),
        ("method", "Application.init", 8, 8),
        ("class", "Application", 11, 13),
        ("method", "Application.shutdown", 12, 12),
        ("class", "Request", 15, 17),
        ("class", "HTTPMethod", 19, 19),
        ("module", None, 21, 21),
        ("class", "Counter", 23, 25),
        ("method", "Counter.increment", 24, 24),
        ("function", "makeApp", 27, 29),
    ],
    "forms.c": [
        ("module", None, 1, 4),
        ("type", "uv_loop_t", 6, 7),
        ("type", "uv_anon_t", 9, 11),
        ("type", "uv_loop_s", 13, 15),
        ("type", "uv_run_mode", 17, 20),
        ("type", "uv_any", 22, 22),
        ("type", "uv_close_cb", 24, 24),
        ("module", None, 26, 26),
        ("function", "uv__helper", 28, 30),
        ("function", "uv_loop_init", 32, 34),
        ("function", "uv_version", 36, 38),
    ],
    "forms.ex": [
        ("class", "Plug.Router", 1, 15),
        ("method", "Plug.Router.__using__", 5, 8),
        ("method", "Plug.Router.match", 10, 11),
        ("method", "Plug.Router.dispatch", 12, 12),
        ("method", "Plug.Router.fetch", 13, 13),
        ("method", "Plug.Router.is_ok", 14, 14),
        ("class", "Plug.Exception", 17, 19),
        ("method", "Plug.Exception.status", 18, 18),
        ("class", "Plug.Exception", 21, 23),
        ("method", "Plug.Exception.status", 22, 22),
    ],
    "forms.go": [
        ("module", None, 1, 3),
        ("type", "Engine", 5, 8),
        ("type", "HandlerFunc", 10, 11),
        ("type", "HandlersChain", 12, 13),
        ("type", "IRouter", 15, 17),
        ("module", None, 19, 32),
        ("function", "New", 34, 36),
        ("method", "Engine.Use", 38, 40),
    ],
    "forms.hpp": [
        ("module", None, 1, 2),
        ("class", "formatter", 4, 7),
        ("method", "formatter.formatter", 6, 6),
        ("module", None, 9, 13),
        ("type", "align", 15, 15),
        ("module", None, 17, 20),
        ("class", "basic_memory_buffer", 22, 26),
        ("method", "basic_memory_buffer.grow", 28, 29),
        ("module", None, 31, 34),
    ],
    "forms.js": [
        ("module", None, 1, 1),
        ("function", "View", 3, 5),
        ("function", "View.prototype.lookup", 7, 9),
        ("function", "exports.compile", 11, 13),
        ("module", None, 15, 18),
        ("class", "Router", 20, 24),
        ("method", "Router.handle", 21, 23),
        ("module", None, 26, 26),
    ],
    "forms.lua": [
        ("module", None, 1, 5),
        ("function", "M.setup", 7, 9),
        ("function", "M.method", 11, 11),
        ("function", "norm", 13, 13),
        ("function", "M.run", 15, 15),
        ("module", None, 17, 21),
    ],
    "forms.php": [
        ("module", None, 1, 3),
        ("class", "QueueManager", 5, 16),
        ("method", "QueueManager.connection", 12, 15),
        ("class", "Factory", 18, 21),
        ("class", "Macroable", 23, 28),
        ("method", "Macroable.macro", 25, 27),
        ("class", "Suit", 30, 38),
        ("method", "Suit.color", 34, 37),
        ("function", "queue_helper", 40, 42),
        ("module", None, 44, 49),
    ],
    "forms.py": [
        ("module", None, 1, 3),
        ("function", "default_headers", 6, 7),
        ("class", "Session", 10, 18),
        ("method", "Session.request", 13, 14),
        ("method", "Session.headers", 16, 18),
        ("class", "Adapter", 21, 23),
        ("function", "fetch", 26, 27),
    ],
    "forms.rb": [
        ("module", None, 1, 1),
        ("class", "Rack", 3, 23),
        ("class", "Rack.Response", 4, 14),
        ("method", "Rack.Response.[]", 8, 10),
        ("method", "Rack.Response.initialize", 12, 13),
        ("method", "Rack.release", 21, 21),
        ("class", "Rack.Utils.HeaderHash", 25, 26),
    ],
    "forms.rs": [
        ("module", None, 1, 1),
        ("type", "JoinSet", 3, 6),
        ("function", "spawn_inner", 8, 10),
        ("class", "JoinSet", 12, 16),
        ("method", "JoinSet.new", 13, 15),
        ("class", "JoinSet", 18, 22),
        ("method", "JoinSet.default", 19, 21),
        ("class", "IntoResponse", 24, 26),
        ("function", "pin", 28, 31),
        ("type", "MissedTickBehavior", 33, 35),
        ("type", "Result", 37, 37),
        ("module", None, 39, 45),
        ("function", "helper", 46, 47),
    ],
    "forms.sh": [
        ("module", None, 1, 1),
        ("function", "nvm_has", 3, 3),
        ("function", "nvm_ls", 5, 7),
        ("function", "nvm_sub", 9, 11),
        ("module", None, 13, 13),
    ],
    "forms.ts": [
        ("module", None, 1, 1),
        ("type", "ZodType", 3, 5),
        ("module", None, 7, 9),
        ("type", "ZodTypeAny", 11, 11),
        ("class", "ZodBase", 13, 17),
        ("method", "ZodBase.parse", 14, 16),
        ("module", None, 19, 23),
        ("type", "ZodKind", 25, 27),
        ("module", None, 29, 35),
        ("function", "assertEqual", 36, 37),
        ("function", "makeIssue", 39, 41),
        ("function", "handler", 43, 45),
    ],
    "forms.tsx": [
        ("module", None, 1, 1),
        ("type", "ButtonProps", 3, 5),
        ("function", "Button", 7, 9),
        ("module", None, 11, 13),
    ],
    "forms.zig": [
        ("module", None, 1, 1),
        ("class", "Arg", 3, 9),
        ("method", "Arg.init", 6, 8),
        ("class", "Mode", 11, 11),
        ("module", None, 13, 15),
        ("function", "parse", 17, 17),
        ("function", "List", 19, 21),
        ("function", "test.parse", 23, 25),
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


def form(name: str) -> str:
    return (FIXTURES / "forms" / name).read_text(encoding="utf-8")


def test_golden_files_cover_every_new_language_and_all_of_them_are_parsed() -> None:
    assert {language_for(name) for name in GOLDEN} == NEW_LANGUAGES
    assert NEW_LANGUAGES <= PARSED_LANGUAGES


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_definitions_comments_and_containers_are_chunked_along_the_syntax_tree(name: str) -> None:
    text = fixture(name)
    chunks = chunk_file(name, text)
    assert [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunks] == GOLDEN[name]
    assert_well_formed(chunks, text)


def test_definition_form_files_cover_every_parsed_language() -> None:
    assert {language_for(name) for name in FORMS} == PARSED_LANGUAGES


@pytest.mark.parametrize("name", sorted(FORMS))
def test_definition_forms_are_chunked_as_recorded_and_listed_as_definitions(name: str) -> None:
    text = form(name)
    chunks = chunk_file(name, text)
    assert [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunks] == FORMS[name]
    assert_well_formed(chunks, text)
    defined = [(symbol, kind) for kind, symbol, _, _ in FORMS[name] if symbol is not None]
    assert defined_symbols(chunks) == list(dict.fromkeys(defined))


@pytest.mark.parametrize("name", sorted(FORMS))
def test_truncated_and_unbalanced_definition_forms_still_cover_every_line(name: str) -> None:
    for text in truncations(form(name)):
        assert_well_formed(chunk_file(name, text), text)
        assert_well_formed(chunk_file(name, text, window_lines=3, max_chunk_lines=4), text)


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

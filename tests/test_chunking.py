"""Chunking along syntax trees and in line windows; languages; identifiers for the ref graph."""

from __future__ import annotations

import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st
from tree_sitter import Parser

from contextos.code.chunking import chunk_file
from contextos.code.chunking.languages import PARSED_LANGUAGES, language_for, parser_for
from contextos.code.symbols import defined_symbols, referenced_identifiers
from contextos.types import Chunk

Row = tuple[str | None, str, int, int]


def rows(chunks: list[Chunk]) -> list[Row]:
    return [(c.symbol, c.kind, c.start_line, c.end_line) for c in chunks]


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def file_lines(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def assert_well_formed(chunks: list[Chunk], text: str) -> None:
    """Every non-blank line is in a chunk; ranges are inside the file; each chunk's text lines
    are, in order, lines of its range (exactly the range, except class outlines)."""
    lines = file_lines(text)
    covered = [False] * len(lines)
    for c in chunks:
        assert 1 <= c.start_line <= c.end_line <= len(lines), c
        span = lines[c.start_line - 1 : c.end_line]
        if c.kind != "class":
            assert c.text == "\n".join(span), c
        remaining = iter(span)
        assert all(any(line == s for s in remaining) for line in c.text.split("\n")), c
        covered[c.start_line - 1 : c.end_line] = [True] * (c.end_line - c.start_line + 1)
    assert [i + 1 for i, line in enumerate(lines) if line.strip() and not covered[i]] == []


PYTHON = src('''
    """Shapes."""
    import math

    RATIO = 2


    # Shapes have an area.
    @dataclass
    class Shape(Base):
        """A shape."""

        sides: int = 0

        @property
        def area(self) -> float:
            return 0.0

        class Meta:
            def describe(self):
                return "meta"


    def make(
        sides: int,
    ) -> Shape:
        return Shape(sides)


    if __name__ == "__main__":
        make(3)
''')


def test_python_definitions_get_qualified_symbols_kinds_and_exact_lines() -> None:
    chunks = chunk_file("shapes.py", PYTHON)
    assert rows(chunks) == [
        (None, "module", 1, 4),
        ("Shape", "class", 7, 20),
        ("Shape.area", "method", 14, 16),
        ("Shape.Meta", "class", 18, 20),
        ("Shape.Meta.describe", "method", 19, 20),
        ("make", "function", 23, 26),
        (None, "module", 29, 30),
    ]
    assert_well_formed(chunks, PYTHON)


def test_class_chunk_is_an_outline_and_methods_carry_their_class_in_context() -> None:
    chunks = {c.symbol: c for c in chunk_file("shapes.py", PYTHON)}
    assert chunks["Shape"].text == src('''
        # Shapes have an area.
        @dataclass
        class Shape(Base):
            """A shape."""
            sides: int = 0
            @property
            def area(self) -> float:
            class Meta:''').rstrip("\n")
    assert chunks["Shape.area"].text == src("""
        @property
        def area(self) -> float:
            return 0.0""").replace("\n", "\n    ").join(["    ", ""])
    assert chunks["Shape.area"].context == "class Shape(Base):\ndef area(self) -> float:"
    assert chunks["Shape.Meta.describe"].context == (
        "class Shape(Base):\nclass Meta:\ndef describe(self):"
    )
    assert chunks["make"].context == "def make( sides: int, ) -> Shape:"
    assert chunks[None].context == ""


def test_javascript_functions_classes_and_bound_functions() -> None:
    code = src("""
        import x from "x";

        export function add(a, b) {
          return a + b;
        }

        class Counter extends Base {
          count = 0;
          increment() {
            this.count++;
          }
          onClick = (e) => {
            this.increment();
          };
        }

        export const double = (n) => n * 2;
        module.exports.legacy = function () {};
    """)
    chunks = chunk_file("app.js", code)
    assert rows(chunks) == [
        (None, "module", 1, 1),
        ("add", "function", 3, 5),
        ("Counter", "class", 7, 15),
        ("Counter.increment", "method", 9, 11),
        ("Counter.onClick", "method", 12, 14),
        ("double", "function", 17, 17),
        ("module.exports.legacy", "function", 18, 18),
    ]
    assert_well_formed(chunks, code)


def test_typescript_interfaces_types_enums_and_namespaces() -> None:
    code = src("""
        /** Anything with an area. */
        export interface Shape {
          area(): number;
        }
        type Id = string;
        enum Color { Red, Green }

        export abstract class Base<T> implements Shape {
          constructor(private name: string) {}
          abstract area(): number;
          async load(id: Id): Promise<T> {
            return fetch(id);
          }
        }

        namespace Util {
          export function clamp(n: number): number { return n; }
        }
    """)
    chunks = chunk_file("shape.ts", code)
    assert rows(chunks) == [
        ("Shape", "type", 1, 4),
        ("Id", "type", 5, 5),
        ("Color", "type", 6, 6),
        ("Base", "class", 8, 14),
        ("Base.constructor", "method", 9, 9),
        ("Base.load", "method", 11, 13),
        (None, "module", 16, 16),
        ("clamp", "function", 17, 18),
    ]
    assert chunks[3].context == "abstract class Base<T> implements Shape"
    assert chunk_file("view.tsx", "const App = () => <div />;\n")[0].symbol == "App"


def test_go_functions_methods_with_receiver_and_grouped_types() -> None:
    code = src("""
        package server

        import "net/http"

        // Server serves.
        type Server struct {
        \taddr string
        }

        type (
        \tID   int
        \tName = string
        )

        // Run starts serving.
        func (s *Server) Run() error {
        \treturn http.ListenAndServe(s.addr, nil)
        }

        func New(addr string) *Server {
        \treturn &Server{addr: addr}
        }
    """)
    chunks = chunk_file("server.go", code)
    assert rows(chunks) == [
        (None, "module", 1, 3),
        ("Server", "type", 5, 8),
        ("ID", "type", 10, 11),
        ("Name", "type", 12, 13),
        ("Server.Run", "method", 15, 18),
        ("New", "function", 20, 22),
    ]
    assert chunks[4].context == "func (s *Server) Run() error"


def test_rust_items_impl_methods_traits_and_modules() -> None:
    code = src("""
        use std::fmt;

        /// A point.
        #[derive(Debug)]
        pub struct Point<T> {
            x: T,
        }

        impl<T: fmt::Display> fmt::Display for Point<T> {
            fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "{}", self.x)
            }
        }

        pub trait Shape {
            fn area(&self) -> f64;
            fn name(&self) -> String {
                "shape".into()
            }
        }

        mod util {
            pub fn helper() {}
        }
    """)
    chunks = chunk_file("point.rs", code)
    assert rows(chunks) == [
        (None, "module", 1, 1),
        ("Point", "type", 3, 7),
        ("Point", "class", 9, 13),
        ("Point.fmt", "method", 10, 12),
        ("Shape", "class", 15, 20),
        ("Shape.name", "method", 17, 19),
        (None, "module", 22, 22),
        ("helper", "function", 23, 24),
    ]
    assert chunks[3].context == (
        "impl<T: fmt::Display> fmt::Display for Point<T>\n"
        "fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result"
    )


def test_java_classes_constructors_methods_and_enum_bodies() -> None:
    code = src("""
        package shapes;

        import java.util.List;

        /** A polygon. */
        public class Polygon extends Shape {
            private final int sides;

            public Polygon(int sides) {
                this.sides = sides;
            }

            @Override
            public double area() {
                return 0;
            }

            interface Visitor {
                void visit(Polygon p);
            }
        }

        enum Kind { TRIANGLE, SQUARE; int corners() { return 3; } }
    """)
    chunks = chunk_file("Polygon.java", code)
    assert rows(chunks) == [
        (None, "module", 1, 3),
        ("Polygon", "class", 5, 21),
        ("Polygon.Polygon", "method", 9, 11),
        ("Polygon.area", "method", 13, 16),
        ("Polygon.Visitor", "class", 18, 20),
        ("Kind", "class", 23, 23),
        ("Kind.corners", "method", 23, 23),
    ]


def test_c_functions_structs_and_typedefs_inside_include_guards() -> None:
    code = src("""
        #ifndef POINT_H
        #define POINT_H
        #include <stdlib.h>

        /* A point on the plane. */
        struct point {
            int x, y;
        };

        typedef struct { double r; } circle;

        static struct point *point_new(int x, int y)
        {
            return malloc(sizeof(struct point));
        }

        int point_free(struct point *p);
        #endif
    """)
    chunks = chunk_file("point.h", code)
    assert rows(chunks) == [
        (None, "module", 1, 3),
        ("point", "type", 5, 8),
        ("circle", "type", 10, 10),
        ("point_new", "function", 12, 15),
        (None, "module", 17, 18),
    ]
    assert chunks[3].context == "static struct point *point_new(int x, int y)"


def test_cpp_classes_templates_namespaces_and_out_of_line_methods() -> None:
    code = src("""
        #include <vector>

        namespace geo {

        template <typename T>
        class Shape : public Base {
         public:
          Shape() {}
          int sides() const { return n_; }
          void resize(int n);

         private:
          int n_;
        };

        void Shape::resize(int n) { n_ = n; }

        }  // namespace geo
    """)
    chunks = chunk_file("shape.cpp", code)
    assert rows(chunks) == [
        (None, "module", 1, 3),
        ("Shape", "class", 5, 14),
        ("Shape.Shape", "method", 8, 8),
        ("Shape.sides", "method", 9, 9),
        ("Shape.resize", "method", 16, 16),
        (None, "module", 18, 18),
    ]
    assert chunks[1].text.splitlines()[-3:] == [" private:", "  int n_;", "};"]


def test_syntax_errors_still_yield_definitions_and_cover_every_line() -> None:
    code = src("""
        def ok():
            return 1

        def broken(:
            pass
        x = = 2
        for i in range(:
            y = 1

        def after():
            return 2
    """)
    chunks = chunk_file("broken.py", code)
    assert rows(chunks) == [
        ("ok", "function", 1, 2),
        ("broken", "function", 4, 5),
        (None, "module", 6, 8),
        ("after", "function", 10, 11),
    ]
    unclosed = "class Half(\n    y = 1\n\ndef after():\n    return 2\n"
    assert_well_formed(chunk_file("half.py", unclosed), unclosed)


def test_long_definitions_are_split_into_windows_that_keep_symbol_and_kind() -> None:
    code = "def big():\n" + "".join(f"    x{i} = {i}\n" for i in range(30))
    chunks = chunk_file("big.py", code, window_lines=10, max_chunk_lines=20)
    assert rows(chunks) == [
        ("big", "function", 1, 10),
        ("big", "function", 9, 18),
        ("big", "function", 17, 26),
        ("big", "function", 25, 31),
    ]
    assert {c.context for c in chunks} == {"def big():"}


def test_markdown_is_cut_at_headings_outside_code_fences() -> None:
    code = src("""
        Intro.

        # Guide

        ```sh
        # a comment, not a heading
        ```

        ## Install

        pip install contextos
    """)
    chunks = chunk_file("README.md", code)
    assert [(c.start_line, c.end_line, c.context) for c in chunks] == [
        (1, 1, ""),
        (3, 7, "Guide"),
        (9, 11, "Guide > Install"),
    ]
    assert {c.kind for c in chunks} == {"window"}


def test_unparsed_text_falls_back_to_overlapping_line_windows() -> None:
    code = "".join(f"key{i} = {i}\n" for i in range(25))
    chunks = chunk_file("settings.toml", code, window_lines=10)
    assert rows(chunks) == [
        (None, "window", 1, 10),
        (None, "window", 9, 18),
        (None, "window", 17, 25),
    ]
    assert {c.language for c in chunks} == {"toml"}
    assert chunk_file("NOTES", "hello\n")[0].language == "text"


def test_empty_blank_crlf_tabs_and_non_ascii_content() -> None:
    assert chunk_file("empty.py", "") == []
    assert chunk_file("blank.py", " \n\t\n\r\n") == []
    crlf = "def f():\r\n\treturn 'héllo ☃'\r\n\r\nx = 1\r\n"
    chunks = chunk_file("crlf.py", crlf)
    assert rows(chunks) == [("f", "function", 1, 2), (None, "module", 4, 4)]
    assert chunks[0].text == "def f():\n\treturn 'héllo ☃'"


def test_one_very_long_line_is_one_chunk_and_minified_code_stays_bounded() -> None:
    line = "x = '" + "a" * 100_000 + "'"
    assert rows(chunk_file("long.py", f"import os\n{line}\n")) == [
        (None, "module", 1, 1),
        (None, "module", 2, 2),
    ]
    minified = "function a(){} " * 5000
    assert rows(chunk_file("min.js", minified)) == [("a", "function", 1, 1)]


python_ish = st.lists(
    st.sampled_from(
        [
            "def f(x):",
            "    return x",
            "class C(B):",
            "    def m(self):",
            "        pass",
            "    @staticmethod",
            "@decorator",
            "# comment",
            "x = [",
            ")",
            "    '''doc",
            "'''",
            "",
            "   ",
            "\t",
            "if __name__ == '__main__':",
            "async def g():",
            "    await g()",
        ]
    )
    | st.text(max_size=20).filter(lambda s: "\n" not in s),
    max_size=40,
).map("\n".join)

any_text = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from("\n\r\t{}"),
    max_size=300,
)


@settings(max_examples=150)  # cheap examples; two text shapes times five languages
@given(text=python_ish | any_text, name=st.sampled_from(["a.py", "a.js", "a.c", "a.md", "a.txt"]))
def test_every_non_blank_line_is_in_some_chunk(text: str, name: str) -> None:
    assert_well_formed(chunk_file(name, text, window_lines=7, max_chunk_lines=9), text)


@settings(max_examples=60)  # each example parses with a real grammar: the slow part
@given(text=any_text, language=st.sampled_from(sorted(PARSED_LANGUAGES)))
def test_every_grammar_survives_arbitrary_text(text: str, language: str) -> None:
    extension = {
        **{"python": "py", "javascript": "js", "typescript": "ts", "rust": "rs", "ruby": "rb"},
        **{"csharp": "cs", "kotlin": "kt", "elixir": "ex", "haskell": "hs", "shell": "sh"},
    }
    name = "f." + extension.get(language, language)
    assert language_for(name) == language
    assert_well_formed(chunk_file(name, text), text)


def test_language_for_knows_extensions_and_well_known_names() -> None:
    names = ["a/b.py", "x.TSX", "Makefile", "Dockerfile.dev", "CMakeLists.txt", "x.h", "x.hpp"]
    assert [language_for(n) for n in names] == [
        "python",
        "tsx",
        "makefile",
        "dockerfile",
        "cmake",
        "c",
        "cpp",
    ]
    assert [language_for(n) for n in ["README.md", "x.yml", "run.sh", "x.bin", ".py", "x"]] == [
        "markdown",
        "yaml",
        "shell",
        None,
        None,
        None,
    ]


def test_parser_for_loads_a_grammar_once_and_only_for_parsed_languages() -> None:
    parser = parser_for("rust")
    assert isinstance(parser, Parser)
    assert parser_for("rust") is parser
    assert parser_for("markdown") is None
    assert parser.parse(b"fn main() {}").root_node.type == "source_file"


def test_referenced_identifiers_skip_keywords_comments_and_docstrings() -> None:
    code = src('''
        def run(task):  # schedule_later is a comment
            """Docstring mentions phantom_name."""
            return getattr(task, "execute_now")(Config.DEFAULT)
    ''')
    assert referenced_identifiers(code, "python") == {
        "run",
        "task",
        "getattr",
        "execute_now",
        "Config",
        "DEFAULT",
    }
    js = "const x = new Foo(); // bar\n/* baz */ let s = `http://a.b`; return x.go();"
    assert referenced_identifiers(js, "javascript") == {"x", "Foo", "s", "http", "a", "b", "go"}


def test_defined_symbols_lists_each_definition_once() -> None:
    chunks = chunk_file("shapes.py", PYTHON, window_lines=2, max_chunk_lines=2)
    assert defined_symbols(chunks) == [
        ("Shape", "class"),
        ("Shape.area", "method"),
        ("Shape.Meta", "class"),
        ("Shape.Meta.describe", "method"),
        ("make", "function"),
    ]

"""The definitions of a source file, as a tree of row ranges read from its tree-sitter parse.

Only the top level and the bodies of containers (classes, ``impl`` blocks, ...) are scanned:
functions nested in functions stay part of their enclosing definition. Comments (and Rust
attributes) directly above a definition, with no blank line between, belong to it. A definition
that starts on a row already taken by its predecessor is left to the top-level code, which bounds
the number of definitions by the number of rows (minified files). A ``/** doc */`` comment
may be separated from its definition by one blank line (the JSDoc/Javadoc habit). Parse errors
are not fatal: tree-sitter returns a tree with ``ERROR`` nodes, whose children are scanned like
the top level.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from tree_sitter import Node

from contextos.code.chunking.defs_functional import ELIXIR_RULES, HASKELL_RULES
from contextos.code.chunking.defs_go_rust_java_c import (
    C_RULES,
    CPP_RULES,
    GO_RULES,
    JAVA_RULES,
    RUST_RULES,
)
from contextos.code.chunking.defs_jvm_swift import KOTLIN_RULES, SCALA_RULES, SWIFT_RULES
from contextos.code.chunking.defs_php_ruby_csharp import CSHARP_RULES, PHP_RULES, RUBY_RULES
from contextos.code.chunking.defs_python_js import JS_RULES, PYTHON_RULES
from contextos.code.chunking.defs_scripts import LUA_RULES, SHELL_RULES, ZIG_RULES
from contextos.code.chunking.languages import parser_for
from contextos.code.chunking.syntax import LangRules, Match, end_row

__all__ = ["Definition", "outline"]

RULES: dict[str, LangRules] = {
    "python": PYTHON_RULES,
    "javascript": JS_RULES,
    "typescript": JS_RULES,
    "tsx": JS_RULES,
    "go": GO_RULES,
    "rust": RUST_RULES,
    "java": JAVA_RULES,
    "c": C_RULES,
    "cpp": CPP_RULES,
    "php": PHP_RULES,
    "ruby": RUBY_RULES,
    "csharp": CSHARP_RULES,
    "scala": SCALA_RULES,
    "kotlin": KOTLIN_RULES,
    "swift": SWIFT_RULES,
    "elixir": ELIXIR_RULES,
    "haskell": HASKELL_RULES,
    "lua": LUA_RULES,
    "shell": SHELL_RULES,
    "zig": ZIG_RULES,
}

_MAX_DEPTH = 24
_SIGNATURE_CHARS = 240


@dataclass(slots=True)
class Definition:
    """A definition's rows (0-based, inclusive) and names.

    ``start`` includes attached comments, ``node_start`` is where the definition itself starts
    (decorators and annotations included), ``sig_end`` is the last row of its signature.
    ``symbol`` is qualified by the enclosing containers (``Outer.Inner.method``).
    """

    kind: str
    symbol: str
    start: int
    node_start: int
    sig_end: int
    end: int
    signature: str
    members: list[Definition] = field(default_factory=list)


def outline(text: str, language: str) -> list[Definition] | None:
    """The top-level definitions of ``text``, in order; ``None`` if ``language`` has no parser."""
    rules = RULES.get(language)
    parser = parser_for(language)
    if rules is None or parser is None:
        return None
    src = text.encode("utf-8", "replace")
    try:
        tree = parser.parse(src)
    except ValueError:
        return None
    return _Scanner(src, rules).scan(tree.root_node.children, "", 0, -1)


class _Scanner:
    """Walks sibling nodes, collecting definitions and the comments that lead into them."""

    def __init__(self, src: bytes, rules: LangRules) -> None:
        self.src = src
        self.rules = rules

    def scan(self, nodes: Sequence[Node], prefix: str, depth: int, floor: int) -> list[Definition]:
        """Definitions among ``nodes`` starting below row ``floor``; ``prefix`` is the
        enclosing container's symbol."""
        found: list[Definition] = []
        lead: tuple[int, int] | None = None
        for node in self._flatten(nodes, depth):
            if node.type in self.rules.comments:
                row = node.start_point.row
                reach = end_row(node) + (2 if self.src.startswith(b"/**", node.start_byte) else 1)
                lead = (lead[0] if lead and row <= lead[1] else row, reach)
                continue
            for match in self.rules.match(node, self.src):
                last_end = found[-1].end if found else floor
                d = self._definition(match, prefix, depth, lead, last_end)
                if d is not None:
                    found.append(d)
            lead = None
        return found

    def _flatten(self, nodes: Sequence[Node], depth: int) -> Iterator[Node]:
        """``nodes`` with transparent ones replaced by their inner nodes, recursively, so a
        comment ending one wrapper (Haskell's imports) still leads into the next definition."""
        for node in nodes:
            inner = self.rules.transparent(node) if depth < _MAX_DEPTH else None
            if inner is None:
                yield node
            else:
                yield from self._flatten(inner, depth + 1)

    def _definition(
        self,
        m: Match,
        prefix: str,
        depth: int,
        lead: tuple[int, int] | None,
        last_end: int,
    ) -> Definition | None:
        first, last = m.rows or (m.node.start_point.row, end_row(m.node))
        if not m.name or first <= last_end:
            return None
        start = first
        if lead is not None and lead[0] > last_end and lead[1] >= first:
            start = min(lead[0], first)
        symbol = f"{prefix}.{m.name}" if prefix else m.name
        kind = "method" if prefix and m.kind == "function" else m.kind
        signature, sig_end = self._signature(m)
        members: list[Definition] = []
        if m.members is not None and depth < _MAX_DEPTH:
            members = self.scan(m.members.children, symbol, depth + 1, first - 1)
        sig_end = max(first, min(sig_end, last))
        return Definition(kind, symbol, start, first, sig_end, last, signature, members)

    def _signature(self, m: Match) -> tuple[str, int]:
        """The one-line signature (whitespace collapsed, no ``{``) and its last row."""
        head = next((c for c in m.head.children if c.type != "decorator"), m.head)
        begin = head.start_byte
        body = m.body
        if body is not None and body.start_byte > begin:
            stop = body.start_byte
            before = body.prev_sibling
            sig_end = end_row(before) if before is not None else body.start_point.row
        else:
            newline = self.src.find(b"\n", begin, m.head.end_byte)
            stop = newline if newline >= 0 else m.head.end_byte
            sig_end = head.start_point.row
        raw = self.src[begin : min(stop, begin + 4 * _SIGNATURE_CHARS)]
        text = " ".join(raw.decode("utf-8", "replace").split()).rstrip("{ ")
        return text[:_SIGNATURE_CHARS], sig_end

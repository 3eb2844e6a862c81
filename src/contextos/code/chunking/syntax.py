"""The vocabulary shared by the per-language rules: what a rule reports, and node helpers.

A language's rules answer two questions about a node met while scanning a file or a class body:
is it a definition (``match``), and should its children be scanned as if they were at this level
(``transparent``: namespaces, ``#ifdef`` blocks, parse errors)? Everything else is top-level code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tree_sitter import Node

__all__ = [
    "LangRules",
    "Match",
    "end_row",
    "errors_only",
    "field_text",
    "first_named",
    "qualify",
    "text_of",
    "trimmed_rows",
]


@dataclass(frozen=True, slots=True)
class Match:
    """One definition found by a rule.

    ``node`` spans the definition with its decorators, ``export`` or ``template`` wrapper; the
    signature runs from ``head`` to where ``body`` starts (the first line of ``head`` without a
    body). ``members`` is the node whose children hold methods and nested classes, for containers.
    ``rows`` overrides the 0-based first/last row of ``node`` (members of a Go ``type (...)``).
    """

    kind: str
    name: str
    node: Node
    head: Node
    body: Node | None = None
    members: Node | None = None
    rows: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class LangRules:
    """How to find definitions in one grammar's tree."""

    comments: frozenset[str]
    match: Callable[[Node, bytes], list[Match]]
    transparent: Callable[[Node], Sequence[Node] | None]


def text_of(node: Node, src: bytes) -> str:
    """The source text of ``node``."""
    return src[node.start_byte : node.end_byte].decode("utf-8", "replace")


def field_text(node: Node, field: str, src: bytes) -> str:
    """The text of ``node``'s child in ``field``, or ``""`` if it has none."""
    child = node.child_by_field_name(field)
    return text_of(child, src) if child is not None else ""


def end_row(node: Node) -> int:
    """The 0-based last row holding text of ``node`` (a node ending in a newline ends a row
    early: its end point is column 0 of the next row)."""
    row, column = node.end_point
    return row - 1 if column == 0 and row > node.start_point.row else row


def _trailing_comments(node: Node, comments: frozenset[str]) -> list[Node]:
    """The comment nodes that end ``node``, at the deepest level where it ends in comments."""
    while node.child_count:
        last: Node | None = node.children[-1]
        if last is not None and last.type in comments:
            run: list[Node] = []
            while last is not None and last.type in comments:
                run.append(last)
                last = last.prev_sibling
            return run[::-1]
        node = node.children[-1]
    return []


def trimmed_rows(node: Node, src: bytes, comments: frozenset[str]) -> tuple[int, int]:
    """The 0-based first and last rows of ``node`` for grammars (Scala, Haskell) that end a
    definition at the indentation of the next one, taking the comments above the next one along:
    the last row is the last one with code, and the first one takes the comments that end the
    previous sibling and lie directly above ``node``."""
    first = node.start_point.row
    previous = node.prev_sibling
    for comment in reversed(_trailing_comments(previous, comments) if previous else []):
        if end_row(comment) + 1 < first:
            break
        first = comment.start_point.row
    trailing = _trailing_comments(node, comments)
    end = trailing[0].start_byte if trailing else node.end_byte
    while end > node.start_byte and src[end - 1 : end] in (b" ", b"\t", b"\r", b"\n"):
        end -= 1
    start = node.start_point.row
    return first, start + src.count(b"\n", node.start_byte, end)


def first_named(node: Node, types: frozenset[str]) -> Node | None:
    """The first named child of ``node`` whose type is in ``types``."""
    for child in node.named_children:
        if child.type in types:
            return child
    return None


_TEMPLATE_ARGS = re.compile(r"<[^<>]*>")


def qualify(name: str) -> str:
    """A definition name as a dotted symbol: ``ns::Foo<T>::bar`` → ``ns.Foo.bar``."""
    name = "".join(name.split())
    for _ in range(4):
        stripped = _TEMPLATE_ARGS.sub("", name)
        if stripped == name:
            break
        name = stripped
    return name.replace("::", ".").strip(".")


def errors_only(node: Node) -> Sequence[Node] | None:
    """The ``transparent`` rule of grammars without scanned-through wrappers: only parse-error
    nodes are looked into."""
    return node.children if node.type == "ERROR" else None

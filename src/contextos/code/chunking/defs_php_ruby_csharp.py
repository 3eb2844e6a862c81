"""Definition rules for PHP, Ruby and C#.

PHP: classes, interfaces, traits and enums with their methods, free functions; braced
``namespace X { }`` bodies are scanned through (the ``namespace X;`` form is one line of
top-level code). Ruby: classes and modules (``A::B`` is the symbol ``A.B``), ``def`` and
``def self.x`` (both ``Class.x``); ``class << self`` is scanned through, so its methods belong to
the class. C#: classes, structs, interfaces, records and enums; methods, constructors,
destructors, operators, indexers, and properties whose accessors have a body (auto-properties
stay in their class's text); namespaces, block or file-scoped, are scanned through and are not
part of symbols. Left out: PHP abstract and interface methods without a body, PHP closures
assigned to variables, Ruby ``define_method`` and blocks, C# local functions.
"""

from __future__ import annotations

from collections.abc import Sequence

from tree_sitter import Node

from contextos.code.chunking.syntax import (
    LangRules,
    Match,
    errors_only,
    field_text,
    qualify,
)

__all__ = ["CSHARP_RULES", "PHP_RULES", "RUBY_RULES"]

_PHP_CLASSES = frozenset(
    {"class_declaration", "interface_declaration", "trait_declaration", "enum_declaration"}
)


def _php(node: Node, src: bytes) -> list[Match]:
    name = field_text(node, "name", src)
    body = node.child_by_field_name("body")
    if node.type in _PHP_CLASSES:
        return [Match("class", name, node, node, body, members=body)]
    if node.type in ("function_definition", "method_declaration") and body is not None:
        return [Match("function", name, node, node, body)]
    return []


def _php_transparent(node: Node) -> Sequence[Node] | None:
    if node.type == "namespace_definition":
        body = node.child_by_field_name("body")
        return body.children if body is not None else None
    return errors_only(node)


PHP_RULES = LangRules(frozenset({"comment"}), _php, _php_transparent)


def _ruby(node: Node, src: bytes) -> list[Match]:
    name = qualify(field_text(node, "name", src))
    if node.type in ("class", "module"):
        return [Match("class", name, node, node, members=node)]
    if node.type in ("method", "singleton_method"):
        return [Match("function", name, node, node, node.child_by_field_name("body"))]
    return []


def _ruby_transparent(node: Node) -> Sequence[Node] | None:
    """A class body (scanned through so that a comment before its first statement, which the
    grammar puts in the class node, still leads into it), ``class << self``, errors."""
    if node.type in ("body_statement", "singleton_class", "ERROR"):
        return node.children
    return None


RUBY_RULES = LangRules(frozenset({"comment"}), _ruby, _ruby_transparent)

_CS_CLASSES = frozenset(
    {
        "class_declaration",
        "struct_declaration",
        "interface_declaration",
        "record_declaration",
        "record_struct_declaration",
        "enum_declaration",
    }
)
_CS_FUNCTIONS = frozenset(
    {
        "method_declaration",
        "constructor_declaration",
        "destructor_declaration",
        "operator_declaration",
        "conversion_operator_declaration",
    }
)
_CS_PROPERTIES = frozenset({"property_declaration", "indexer_declaration", "event_declaration"})


def _cs_name(node: Node, src: bytes) -> str:
    if node.type == "destructor_declaration":
        return "~" + field_text(node, "name", src)
    if node.type == "operator_declaration":
        return "operator" + field_text(node, "operator", src)
    if node.type == "conversion_operator_declaration":
        return "operator " + field_text(node, "type", src)
    if node.type == "indexer_declaration":
        return "this"
    return field_text(node, "name", src)


def _has_body(node: Node) -> bool:
    """A property or indexer with an expression body or an accessor with a body."""
    if node.child_by_field_name("value") is not None:
        return True
    accessors = node.child_by_field_name("accessors")
    return accessors is not None and any(
        c.child_by_field_name("body") is not None for c in accessors.named_children
    )


def _csharp(node: Node, src: bytes) -> list[Match]:
    body = node.child_by_field_name("body")
    if node.type in _CS_CLASSES:
        return [Match("class", qualify(field_text(node, "name", src)), node, node, body, body)]
    if node.type in _CS_FUNCTIONS and body is not None:
        return [Match("function", _cs_name(node, src), node, node, body)]
    if node.type in _CS_PROPERTIES and _has_body(node):
        accessors = node.child_by_field_name("accessors") or node.child_by_field_name("value")
        return [Match("function", _cs_name(node, src), node, node, accessors)]
    return []


def _cs_transparent(node: Node) -> Sequence[Node] | None:
    if node.type == "namespace_declaration":
        body = node.child_by_field_name("body")
        return body.children if body is not None else None
    if node.type == "file_scoped_namespace_declaration":
        return node.children[1:]
    if node.type in ("preproc_if", "preproc_else", "preproc_elif", "preproc_region"):
        return node.children
    return errors_only(node)


CSHARP_RULES = LangRules(frozenset({"comment"}), _csharp, _cs_transparent)

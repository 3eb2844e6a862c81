"""Definition rules for Scala, Kotlin and Swift.

Scala: classes, objects (package objects too), traits, enums and ``given ... with`` bodies as
containers; ``def`` with a body, and ``val``/``var`` whose value spans several lines
(``new Functor[F] { ... }``, blocks); ``package p { }`` bodies and ``extension`` groups are
scanned through. Kotlin: classes,
interfaces, enum classes, objects and companion objects (named ``Companion`` unless named);
functions, secondary constructors and properties with a getter or setter. Swift: classes,
structs, enums, actors and extensions (one grammar node) and protocols; functions, ``init``,
``deinit``, subscripts and computed properties. Left out: Scala and Kotlin abstract functions and
Swift protocol requirements, which stay in their container's text.
"""

from __future__ import annotations

from collections.abc import Sequence

from tree_sitter import Node

from contextos.code.chunking.syntax import (
    LangRules,
    Match,
    errors_only,
    field_text,
    first_named,
    qualify,
    text_of,
    trimmed_rows,
)

__all__ = ["KOTLIN_RULES", "SCALA_RULES", "SWIFT_RULES"]

_SCALA_CLASSES = frozenset(
    {
        "class_definition",
        "object_definition",
        "trait_definition",
        "enum_definition",
        "package_object",
    }
)
_SCALA_VALUES = frozenset({"val_definition", "var_definition"})
_SCALA_COMMENTS = frozenset({"comment", "block_comment"})


def _scala(node: Node, src: bytes) -> list[Match]:
    rows = trimmed_rows(node, src, _SCALA_COMMENTS)
    body = node.child_by_field_name("body")
    name = field_text(node, "name", src)
    if node.type in _SCALA_CLASSES or (node.type == "given_definition" and body is not None):
        name = name or qualify(field_text(node, "return_type", src))
        return [Match("class", name, node, node, body, members=body, rows=rows)]
    if node.type == "function_definition":
        return [Match("function", name, node, node, body, rows=rows)]
    if node.type in _SCALA_VALUES and rows[1] > rows[0]:
        value = node.child_by_field_name("value")
        name = field_text(node, "pattern", src)
        return (
            [Match("function", name, node, node, value, rows=rows)] if name.isidentifier() else []
        )
    return []


def _scala_transparent(node: Node) -> Sequence[Node] | None:
    if node.type in ("package_clause", "extension_definition"):
        body = node.child_by_field_name("body")
        if body is None:
            return None
        return body.children if body.type == "template_body" else [body]
    return errors_only(node)


SCALA_RULES = LangRules(_SCALA_COMMENTS, _scala, _scala_transparent)

_KOTLIN_BODIES = frozenset({"class_body", "enum_class_body"})
_KOTLIN_CLASSES = frozenset({"class_declaration", "object_declaration", "companion_object"})


def _kotlin(node: Node, src: bytes) -> list[Match]:
    if node.type in _KOTLIN_CLASSES:
        body = first_named(node, _KOTLIN_BODIES)
        name = field_text(node, "name", src) or "Companion"
        return [Match("class", name, node, node, body, members=body)]
    if node.type == "function_declaration":
        body = first_named(node, frozenset({"function_body"}))
        name = field_text(node, "name", src)
        return [Match("function", name, node, node, body)] if body is not None else []
    if node.type == "secondary_constructor":
        return [Match("function", "constructor", node, node, first_named(node, _BLOCK))]
    if node.type == "property_declaration":
        accessor = first_named(node, frozenset({"getter", "setter"}))
        variable = first_named(node, frozenset({"variable_declaration"}))
        if accessor is None or variable is None:
            return []
        name = text_of(variable, src).split(":")[0].strip()
        return [Match("function", name, node, node, accessor)]
    return []


_BLOCK = frozenset({"block"})

KOTLIN_RULES = LangRules(frozenset({"line_comment", "block_comment"}), _kotlin, errors_only)

_SWIFT_FUNCTIONS = {
    "function_declaration": "",
    "init_declaration": "init",
    "deinit_declaration": "deinit",
    "subscript_declaration": "subscript",
}


_COMPUTED = frozenset({"computed_property"})


def _swift(node: Node, src: bytes) -> list[Match]:
    body = node.child_by_field_name("body") or first_named(node, _COMPUTED)
    if node.type in ("class_declaration", "protocol_declaration"):
        name = qualify(field_text(node, "name", src))
        return [Match("class", name, node, node, body, members=body)]
    if node.type in _SWIFT_FUNCTIONS and body is not None:
        name = _SWIFT_FUNCTIONS[node.type] or field_text(node, "name", src)
        return [Match("function", name, node, node, body)]
    if node.type == "property_declaration":
        computed = node.child_by_field_name("computed_value")
        name = field_text(node, "name", src)
        if computed is not None and name.isidentifier():
            return [Match("function", name, node, node, computed)]
    return []


SWIFT_RULES = LangRules(frozenset({"comment", "multiline_comment"}), _swift, errors_only)

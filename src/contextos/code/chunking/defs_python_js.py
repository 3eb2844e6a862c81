"""Definition rules for Python, JavaScript and TypeScript (TSX included).

Python: functions and classes, decorated ones spanning their decorators. JS/TS: function and
class declarations, class methods and arrow-function fields, ``const f = () => ...`` and
``const f = function ...`` with a single declarator, CommonJS ``exports.f = function ...``,
TypeScript interfaces, type aliases and enums; ``export`` wraps are part of the span and
namespaces are scanned through. Left out: object-literal methods and nested functions (they stay
inside their enclosing chunk).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from tree_sitter import Node

from contextos.code.chunking.syntax import LangRules, Match, errors_only, field_text

__all__ = ["JS_RULES", "PYTHON_RULES"]


def _python(node: Node, src: bytes) -> list[Match]:
    target: Node | None = node
    if node.type == "decorated_definition":
        target = node.child_by_field_name("definition")
    if target is None or target.type not in ("function_definition", "class_definition"):
        return []
    name = field_text(target, "name", src)
    body = target.child_by_field_name("body")
    if target.type == "function_definition":
        return [Match("function", name, node, target, body)]
    return [Match("class", name, node, target, body, members=body)]


PYTHON_RULES = LangRules(frozenset({"comment"}), _python, errors_only)

_FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)
_CLASS_VALUES = frozenset({"class", "class_expression"})
_FUNCTIONS = frozenset(
    {"function_declaration", "generator_function_declaration", "method_definition"}
)
_CLASSES = frozenset({"class_declaration", "abstract_class_declaration"})
_TYPES = frozenset({"interface_declaration", "type_alias_declaration", "enum_declaration"})
_FIELDS = frozenset({"field_definition", "public_field_definition"})
_MODULES = frozenset({"internal_module", "module"})


def _value_match(name: str, node: Node, value: Node | None) -> list[Match]:
    """A definition whose text is ``name = <function or class expression>``."""
    if value is None or not name:
        return []
    body = value.child_by_field_name("body")
    if value.type in _FUNCTION_VALUES:
        return [Match("function", name, node, node, body)]
    if value.type in _CLASS_VALUES:
        return [Match("class", name, node, node, body, members=body)]
    return []


def _js_binding(node: Node, src: bytes) -> list[Match]:
    """``const f = () => {}``, ``handler = () => {}`` in a class, ``exports.f = function``."""
    if node.type in ("lexical_declaration", "variable_declaration"):
        declarators = [c for c in node.named_children if c.type == "variable_declarator"]
        if len(declarators) != 1:
            return []
        decl = declarators[0]
        return _value_match(field_text(decl, "name", src), node, decl.child_by_field_name("value"))
    if node.type in _FIELDS:
        name = field_text(node, "property", src) or field_text(node, "name", src)
        return _value_match(name, node, node.child_by_field_name("value"))
    if node.type == "expression_statement" and node.named_child_count == 1:
        assign = node.named_children[0]
        if assign.type == "assignment_expression":
            left = "".join(field_text(assign, "left", src).split())
            return _value_match(left, node, assign.child_by_field_name("right"))
    return []


def _js(node: Node, src: bytes) -> list[Match]:
    kind = node.type
    if kind == "export_statement":
        inner = node.child_by_field_name("declaration")
        if inner is not None:
            return [replace(m, node=node) for m in _js(inner, src)]
        return _value_match("default", node, node.child_by_field_name("value"))
    name = field_text(node, "name", src)
    body = node.child_by_field_name("body")
    if not name:
        return _js_binding(node, src)
    if kind in _FUNCTIONS:
        return [Match("function", name, node, node, body)]
    if kind in _CLASSES:
        return [Match("class", name, node, node, body, members=body)]
    if kind in _TYPES:
        return [Match("type", name, node, node, body)]
    return _js_binding(node, src)


def _js_transparent(node: Node) -> Sequence[Node] | None:
    """Namespaces (``namespace N {}``, ``declare module "m" {}``, exported or not) and errors."""
    if node.type == "ERROR":
        return node.children
    if node.type in ("expression_statement", "ambient_declaration", "export_statement"):
        inner = node.named_children[0] if node.named_child_count else None
        if inner is None or inner.type not in _MODULES:
            return None
        node = inner
    if node.type in _MODULES:
        body = node.child_by_field_name("body")
        return body.children if body is not None else None
    return None


JS_RULES = LangRules(frozenset({"comment", "html_comment"}), _js, _js_transparent)

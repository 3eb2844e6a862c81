"""Definition rules for Lua, shell scripts (bash grammar) and Zig.

Lua: ``function a.b:c()`` (symbol ``a.b.c``), ``local function f``, and ``M.f = function`` or
``local f = function`` with a single target. Shell: ``f() { }`` and ``function f { }`` at the top
level of the file or of a top-level ``{ }`` group (nvm wraps its whole script in one). Zig:
``fn`` declarations, ``test "name"`` blocks (symbol ``test.name``, as Zig's test runner names
them) and ``const X = struct/enum/union/opaque { ... }`` containers with their functions. Left
out: Lua tables of functions (``M = { f = function ... }``), shell functions defined inside
``if`` blocks, Zig comptime-generated types (``fn List(T) type { return struct {...} }`` is one
function).
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
    text_of,
)

__all__ = ["LUA_RULES", "SHELL_RULES", "ZIG_RULES"]


def _lua_assigned_function(node: Node, src: bytes) -> list[Match]:
    """``M.f = function ... end`` or ``local f = function ... end`` spanning ``node``."""
    assign = node
    if node.type == "variable_declaration":
        inner = first_named(node, frozenset({"assignment_statement"}))
        if inner is None:
            return []
        assign = inner
    if assign.type != "assignment_statement":
        return []
    targets = first_named(assign, frozenset({"variable_list"}))
    values = first_named(assign, frozenset({"expression_list"}))
    if targets is None or values is None or targets.named_child_count != 1:
        return []
    if values.named_child_count != 1 or values.named_children[0].type != "function_definition":
        return []
    name = text_of(targets.named_children[0], src).replace(":", ".")
    body = values.named_children[0].child_by_field_name("body")
    return [Match("function", name, node, node, body)] if _is_dotted(name) else []


def _is_dotted(name: str) -> bool:
    return all(part.isidentifier() for part in name.split("."))


def _lua(node: Node, src: bytes) -> list[Match]:
    if node.type == "function_declaration":
        name = "".join(field_text(node, "name", src).split()).replace(":", ".")
        body = node.child_by_field_name("body")
        return [Match("function", name, node, node, body)] if _is_dotted(name) else []
    return _lua_assigned_function(node, src)


LUA_RULES = LangRules(frozenset({"comment"}), _lua, errors_only)


def _shell(node: Node, src: bytes) -> list[Match]:
    if node.type != "function_definition":
        return []
    name = field_text(node, "name", src)
    return [Match("function", name, node, node, node.child_by_field_name("body"))]


def _shell_transparent(node: Node) -> Sequence[Node] | None:
    """A top-level ``{ ... }`` group (nvm wraps its whole script in one) and errors."""
    return node.children if node.type in ("compound_statement", "ERROR") else None


SHELL_RULES = LangRules(frozenset({"comment"}), _shell, _shell_transparent)

_ZIG_CONTAINERS = frozenset(
    {"struct_declaration", "enum_declaration", "union_declaration", "opaque_declaration"}
)


def _zig(node: Node, src: bytes) -> list[Match]:
    if node.type == "function_declaration":
        name = field_text(node, "name", src)
        return [Match("function", name, node, node, node.child_by_field_name("body"))]
    if node.type == "test_declaration":
        label = first_named(node, frozenset({"string", "identifier"}))
        name = text_of(label, src).strip('"') if label is not None else ""
        block = first_named(node, frozenset({"block"}))
        return [Match("function", f"test.{name}" if name else "test", node, node, block)]
    if node.type != "variable_declaration":
        return []
    container = first_named(node, _ZIG_CONTAINERS)
    declared = first_named(node, frozenset({"identifier"}))
    if container is None or declared is None:
        return []
    brace = next((c for c in container.children if c.type == "{"), None)
    return [Match("class", text_of(declared, src), node, node, brace, members=container)]


ZIG_RULES = LangRules(frozenset({"comment"}), _zig, errors_only)

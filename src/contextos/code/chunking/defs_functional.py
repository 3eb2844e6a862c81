"""Definition rules for Elixir and Haskell.

Elixir: ``defmodule`` (nested ones too), ``defprotocol`` and ``defimpl`` as containers of
``def``/``defp``/``defmacro``/``defmacrop``/``defguard``/``defdelegate`` calls; each clause of a
function is its own definition. Module attributes (``@doc``, ``@spec``, ``@impl``) directly above
a definition belong to it, like comments. Haskell: a function's type signature and its
consecutive equations form one definition (equations of ``f`` after the first are left to it);
``data``, ``newtype``, ``type`` and type families are types; ``class`` and ``instance``
declarations are containers of their method bindings (an instance's symbol is its class's name).
Left out: Elixir functions defined by macros other than these, Haskell pattern bindings
(``(a, b) = ...``) and Template Haskell splices.
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

__all__ = ["ELIXIR_RULES", "HASKELL_RULES"]

_EX_FUNCTIONS = frozenset(
    {"def", "defp", "defmacro", "defmacrop", "defguard", "defguardp", "defdelegate", "defn"}
)
_EX_MODULES = frozenset({"defmodule", "defprotocol", "defimpl"})


def _ex_function_name(head: Node | None, src: bytes) -> str:
    """``f`` in ``def f(x) when ...``, ``def f, do: ...`` or ``def a + b``."""
    if head is not None and head.type == "binary_operator":
        if field_text(head, "operator", src) == "when":
            head = head.child_by_field_name("left")
        else:
            return field_text(head, "operator", src)
    if head is None:
        return ""
    if head.type == "call":
        head = head.child_by_field_name("target")
    return text_of(head, src) if head is not None and head.type == "identifier" else ""


def _elixir(node: Node, src: bytes) -> list[Match]:
    if node.type != "call":
        return []
    macro = field_text(node, "target", src)
    args = first_named(node, frozenset({"arguments"}))
    head = args.named_children[0] if args is not None and args.named_child_count else None
    block = first_named(node, frozenset({"do_block"}))
    if macro in _EX_MODULES and head is not None and block is not None:
        name = qualify(text_of(head, src)) if head.type == "alias" else ""
        return [Match("class", name or macro, node, node, block, members=block)]
    if macro in _EX_FUNCTIONS:
        return [Match("function", _ex_function_name(head, src), node, node, block)]
    return []


ELIXIR_RULES = LangRules(frozenset({"comment", "unary_operator"}), _elixir, errors_only)

_HS_TYPES = frozenset(
    {"data_type", "newtype", "type_synonym", "type_family", "data_family", "type_instance"}
)
_HS_BINDINGS = frozenset({"function", "bind", "signature"})
_HS_COMMENTS = frozenset({"comment", "haddock", "pragma"})


def _binding_name(node: Node | None, src: bytes) -> str:
    if node is None or node.type not in _HS_BINDINGS:
        return ""
    return field_text(node, "name", src)


def _neighbour(node: Node, forward: bool) -> Node | None:
    """The next (or previous) named sibling that is not a comment."""
    sibling = node.next_named_sibling if forward else node.prev_named_sibling
    while sibling is not None and sibling.type in _HS_COMMENTS:
        sibling = sibling.next_named_sibling if forward else sibling.prev_named_sibling
    return sibling


def _haskell_binding(node: Node, src: bytes) -> list[Match]:
    """A signature or first equation, spanning the equations of the same name after it."""
    name = _binding_name(node, src)
    if not name or _binding_name(_neighbour(node, forward=False), src) == name:
        return []
    last = node
    while (following := _neighbour(last, forward=True)) is not None:
        if following.type == "signature" or _binding_name(following, src) != name:
            break
        last = following
    rows = (trimmed_rows(node, src, _HS_COMMENTS)[0], trimmed_rows(last, src, _HS_COMMENTS)[1])
    body = node.child_by_field_name("match") if node.type != "signature" else None
    return [Match("function", name, node, node, body, rows=rows)]


def _haskell(node: Node, src: bytes) -> list[Match]:
    if node.type in _HS_BINDINGS:
        return _haskell_binding(node, src)
    rows = trimmed_rows(node, src, _HS_COMMENTS)
    name = field_text(node, "name", src)
    if node.type in _HS_TYPES:
        return [Match("type", name, node, node, rows=rows)]
    if node.type in ("class", "instance"):
        body = node.child_by_field_name("declarations")
        return [Match("class", qualify(name), node, node, body, members=body, rows=rows)]
    return []


def _haskell_transparent(node: Node) -> Sequence[Node] | None:
    if node.type in ("imports", "declarations", "ERROR"):
        return node.children
    return None


HASKELL_RULES = LangRules(_HS_COMMENTS - {"pragma"}, _haskell, _haskell_transparent)

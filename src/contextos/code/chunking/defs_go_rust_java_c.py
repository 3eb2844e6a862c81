"""Definition rules for Go, Rust, Java, C and C++.

Go: functions, methods (``Recv.Name``), each type of a ``type`` declaration. Rust: functions and
macros, structs/enums/unions/type aliases, traits and ``impl`` blocks as containers of methods
(``Type.method``, generics dropped), ``mod`` bodies scanned through. Java: classes, interfaces,
enums, records and annotation types with their methods and constructors (abstract and interface
methods without a body stay in their class's text). C/C++: function
definitions (``Foo::bar`` defined out of line is the method ``Foo.bar``), struct/union/enum/class
specifiers with a body, typedefs; templates span their ``template <...>`` line; namespaces,
``extern "C"`` and preprocessor conditionals are scanned through. Left out: Go ``var``/``const``
blocks and C prototypes, which stay top-level code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from tree_sitter import Node

from contextos.code.chunking.syntax import (
    LangRules,
    Match,
    errors_only,
    field_text,
    first_named,
    qualify,
    text_of,
)

__all__ = ["CPP_RULES", "C_RULES", "GO_RULES", "JAVA_RULES", "RUST_RULES"]


def _receiver_type(receiver: Node | None, src: bytes) -> str:
    """The type name in a Go receiver such as ``(s *Server[T])``."""
    stack = [receiver] if receiver is not None else []
    while stack:
        node = stack.pop()
        if node.type == "type_identifier":
            return text_of(node, src)
        stack.extend(reversed(node.named_children))
    return ""


def _go(node: Node, src: bytes) -> list[Match]:
    name = field_text(node, "name", src)
    body = node.child_by_field_name("body")
    if node.type == "function_declaration":
        return [Match("function", name, node, node, body)]
    if node.type == "method_declaration":
        receiver = _receiver_type(node.child_by_field_name("receiver"), src)
        return [Match("method", f"{receiver}.{name}" if receiver else name, node, node, body)]
    if node.type != "type_declaration":
        return []
    specs = [c for c in node.named_children if c.type in ("type_spec", "type_alias")]
    if len(specs) == 1:
        return [Match("type", field_text(specs[0], "name", src), node, node)]
    first, last = node.start_point.row, node.end_point.row
    return [
        Match(
            "type",
            field_text(spec, "name", src),
            spec,
            spec,
            rows=(
                first if i == 0 else spec.start_point.row,
                last if i == len(specs) - 1 else spec.end_point.row,
            ),
        )
        for i, spec in enumerate(specs)
    ]


GO_RULES = LangRules(frozenset({"comment"}), _go, errors_only)

_RUST_TYPES = frozenset({"struct_item", "enum_item", "union_item", "type_item"})


def _impl_type(node: Node, src: bytes) -> str:
    """The implementing type of ``impl ... for Foo<T>`` without path or generics: ``Foo``."""
    target = node.child_by_field_name("type")
    while target is not None and target.type in ("generic_type", "scoped_type_identifier"):
        target = target.child_by_field_name("type" if target.type == "generic_type" else "name")
    return qualify(text_of(target, src)) if target is not None else ""


def _rust(node: Node, src: bytes) -> list[Match]:
    name = field_text(node, "name", src)
    body = node.child_by_field_name("body")
    if node.type in ("function_item", "macro_definition"):
        return [Match("function", name, node, node, body)]
    if node.type in _RUST_TYPES:
        return [Match("type", name, node, node, body)]
    if node.type == "trait_item":
        return [Match("class", name, node, node, body, members=body)]
    if node.type == "impl_item":
        return [Match("class", _impl_type(node, src), node, node, body, members=body)]
    return []


def _rust_transparent(node: Node) -> Sequence[Node] | None:
    if node.type == "mod_item":
        body = node.child_by_field_name("body")
        return body.children if body is not None else None
    return errors_only(node)


RUST_RULES = LangRules(
    frozenset({"line_comment", "block_comment", "attribute_item"}), _rust, _rust_transparent
)

_JAVA_CLASSES = frozenset(
    {
        "class_declaration",
        "interface_declaration",
        "enum_declaration",
        "record_declaration",
        "annotation_type_declaration",
    }
)
_JAVA_METHODS = frozenset(
    {"method_declaration", "constructor_declaration", "compact_constructor_declaration"}
)


def _java(node: Node, src: bytes) -> list[Match]:
    name = field_text(node, "name", src)
    body = node.child_by_field_name("body")
    if node.type in _JAVA_CLASSES:
        return [Match("class", name, node, node, body, members=body)]
    if node.type in _JAVA_METHODS and body is not None:
        return [Match("function", name, node, node, body)]
    return []


def _java_transparent(node: Node) -> Sequence[Node] | None:
    return node.children if node.type in ("ERROR", "enum_body_declarations") else None


JAVA_RULES = LangRules(frozenset({"line_comment", "block_comment"}), _java, _java_transparent)

_NAMES = frozenset(
    {
        "identifier",
        "field_identifier",
        "type_identifier",
        "qualified_identifier",
        "destructor_name",
        "operator_name",
        "template_function",
    }
)
_RECORDS = frozenset({"struct_specifier", "union_specifier", "class_specifier", "enum_specifier"})
_WRAPPED = frozenset({"function_definition", "declaration", "field_declaration", *_RECORDS})
_SCANNED = frozenset(
    {"preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif", "preproc_elifdef", "ERROR"}
)


def _declarator_chain(node: Node | None) -> list[Node]:
    """The declarators from ``node`` down to the declared name (``*f(int)`` → pointer,
    function, identifier); the last one is the name if the chain reaches one."""
    chain: list[Node] = []
    while node is not None and len(chain) < 16:
        chain.append(node)
        if node.type in _NAMES:
            break
        inner = node.child_by_field_name("declarator")
        node = inner if inner is not None or not node.named_children else node.named_children[0]
    return chain


def _declarator_name(node: Node | None, src: bytes, *, function: bool = False) -> str:
    """The declared name under a chain of declarators; with ``function``, only if the chain
    holds a function declarator (a macro before ``namespace x {`` parses as a "function")."""
    chain = _declarator_chain(node)
    if not chain or chain[-1].type not in _NAMES:
        return ""
    if function and not any(n.type == "function_declarator" for n in chain):
        return ""
    return qualify(text_of(chain[-1], src))


def _record(node: Node, span: Node, src: bytes, cpp: bool) -> list[Match]:
    """A struct/union/class/enum specifier with a body, spanning ``span``."""
    body = node.child_by_field_name("body")
    name = qualify(field_text(node, "name", src))
    if body is None or not name:
        return []
    if cpp and node.type != "enum_specifier":
        return [Match("class", name, span, node, body, members=body)]
    return [Match("type", name, span, node, body)]


def _c_family(node: Node, src: bytes, cpp: bool) -> list[Match]:
    kind = node.type
    if kind == "function_definition":
        name = _declarator_name(node.child_by_field_name("declarator"), src, function=True)
        body = node.child_by_field_name("body")
        return (
            [Match("method" if "." in name else "function", name, node, node, body)] if name else []
        )
    if kind in _RECORDS:
        return _record(node, node, src, cpp)
    if kind in ("declaration", "field_declaration"):
        inner = node.child_by_field_name("type")
        return (
            _record(inner, node, src, cpp) if inner is not None and inner.type in _RECORDS else []
        )
    if kind == "type_definition":
        name = _declarator_name(node.child_by_field_name("declarator"), src)
        return [Match("type", name, node, node)] if name else []
    if kind == "template_declaration":
        inner = first_named(node, _WRAPPED | {"template_declaration"})
        return [replace(m, node=node) for m in _c_family(inner, src, cpp)] if inner else []
    return []


def _c_transparent(node: Node) -> Sequence[Node] | None:
    """Namespaces, ``extern "C"``, ``#if`` blocks, errors, and "functions" whose declarator is
    not a function (macro-introduced namespaces: ``NS_BEGIN namespace x {``)."""
    if node.type == "function_definition":
        chain = _declarator_chain(node.child_by_field_name("declarator"))
        body = node.child_by_field_name("body")
        if body is None or any(n.type == "function_declarator" for n in chain):
            return None
        return body.children
    if node.type in ("namespace_definition", "linkage_specification"):
        body = node.child_by_field_name("body")
        if body is None:
            return None
        return body.children if body.type == "declaration_list" else [body]
    return node.children if node.type in _SCANNED else None


C_RULES = LangRules(frozenset({"comment"}), lambda n, s: _c_family(n, s, cpp=False), _c_transparent)
CPP_RULES = LangRules(
    frozenset({"comment"}), lambda n, s: _c_family(n, s, cpp=True), _c_transparent
)

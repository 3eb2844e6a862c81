"""Tool calls, one rule each: a tool table → specs, a model's raw arguments → checked values,
a model's turn → the assistant message that records it.

A tool table maps a name to ``(description, JSON-schema properties, required names)``. Argument
checking accepts what models really send: an empty string for no arguments, ``null`` for an
optional argument not given; it refuses malformed JSON, missing or unknown arguments and wrong
JSON types with a ``UserInputError`` the caller shows to the model. Left out: nested schemas
(array items and object members are not checked).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from contextos.errors import UserInputError
from contextos.llm.protocol import Turn

__all__ = ["ToolTable", "assistant_message", "parse_arguments", "tool_specs"]

ToolTable = Mapping[str, tuple[str, Mapping[str, Mapping[str, Any]], tuple[str, ...]]]

_TYPES: dict[str, Callable[[object], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def tool_specs(table: ToolTable) -> list[dict[str, Any]]:
    """``{"name", "description", "parameters"}`` for every tool of ``table``, in order."""
    return [
        {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": dict(properties),
                "required": list(required),
                "additionalProperties": False,
            },
        }
        for name, (description, properties, required) in table.items()
    ]


def parse_arguments(table: ToolTable, name: str, raw: str) -> dict[str, Any]:
    """The arguments of a call to ``name``, checked against its schema, or ``UserInputError``."""
    try:
        args = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        raise UserInputError(f"arguments are not valid JSON ({exc}): {raw[:200]!r}") from exc
    if not isinstance(args, dict):
        raise UserInputError(f"arguments must be a JSON object, got {type(args).__name__}")
    _, properties, required = table[name]
    for key in required:
        if args.get(key) is None:
            raise UserInputError(f"missing argument {key!r}: {name} needs {', '.join(required)}")
    checked: dict[str, Any] = {}
    for key, value in args.items():
        if key not in properties:
            raise UserInputError(f"unknown argument {key!r}: {name} takes {', '.join(properties)}")
        if value is None:  # models send null for "not given"
            continue
        kind = str(properties[key]["type"])
        if not _TYPES[kind](value):
            raise UserInputError(f"argument {key!r} must be {kind}, got {type(value).__name__}")
        checked[key] = value
    return checked


def assistant_message(turn: Turn) -> dict[str, Any]:
    """The OpenAI-format assistant message recording ``turn`` (its text and tool calls)."""
    message: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
    if turn.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in turn.tool_calls
        ]
    return message

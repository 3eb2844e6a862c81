"""Conversation transcripts: reading JSONL files and cutting them into extraction windows.

A transcript file holds one ``{"role": ..., "content": ...}`` object a line (blank lines are
skipped; a UTF-8 byte-order mark is allowed). ``content`` may also be a list of
``{"type": "text", "text": ...}`` parts, as the OpenAI and Anthropic APIs write it; other parts
(images, tool calls) are dropped. Anything else, JSON nested too deeply included, is a
``UserInputError`` naming the file and line. Extraction runs after each user turn over a
window of the messages up to and including that turn.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from contextos.errors import UserInputError
from contextos.llm.protocol import Message

__all__ = ["ROLES", "parse_message", "read_transcript", "user_turn_windows"]

ROLES = frozenset({"user", "assistant", "system", "tool"})


def parse_message(obj: Any, where: str) -> Message:
    """Validate one message object; ``where`` names it in the error."""
    if not isinstance(obj, dict):
        raise UserInputError(f"{where}: expected an object with 'role' and 'content'")
    role, content = obj.get("role"), obj.get("content")
    if role not in ROLES:
        raise UserInputError(f"{where}: 'role' must be one of {sorted(ROLES)}, got {role!r}")
    if isinstance(content, list):
        texts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        content = "\n".join(t for t in texts if isinstance(t, str))
    if not isinstance(content, str):
        raise UserInputError(f"{where}: 'content' must be a string")
    return {"role": str(role), "content": content}


def read_transcript(path: Path) -> list[Message]:
    """The messages of a JSONL transcript; ``UserInputError`` if missing or malformed."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"cannot read transcript {path}: {exc}") from exc
    messages: list[Message] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserInputError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
        except RecursionError as exc:
            raise UserInputError(f"{path}:{number}: JSON nested too deeply") from exc
        messages.append(parse_message(obj, f"{path}:{number}"))
    if not any(m["role"] == "user" for m in messages):
        raise UserInputError(f"{path}: the transcript has no user message")
    return messages


def user_turn_windows(messages: Sequence[Message], window: int) -> list[tuple[int, list[Message]]]:
    """``(turn, messages)`` for each user message: it and up to ``window - 1`` before it."""
    out: list[tuple[int, list[Message]]] = []
    for i, message in enumerate(messages):
        if message["role"] == "user":
            out.append((i, list(messages[max(0, i - window + 1) : i + 1])))
    return out

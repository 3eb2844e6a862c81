"""The baselines: ``truncate`` (the head, then whole messages newest first while they fit) and
``mask`` (tool outputs older than the last 10 stubbed by ``context.compaction
.mask_observations``, then truncate). Both work on per-message texts and counts made once."""

from __future__ import annotations

import json
from typing import Any

from contextos.context.compaction import mask_observations
from contextos.context.session import Event, EventRole

__all__ = ["MASK_KEEP", "masked", "stubs", "truncate"]

MASK_KEEP = 10


def truncate(texts: list[str], tokens: list[int], budget: int, head: int = 2) -> tuple[str, int]:
    """The window text and its tokens: ``texts[:head]``, then the newest that fit, in order."""
    used = sum(tokens[:head])
    first = len(texts)
    while first > head and used + tokens[first - 1] <= budget:
        first -= 1
        used += tokens[first]
    return "\n".join(texts[:head] + texts[first:]), used


def stubs(messages: list[dict[str, Any]]) -> list[str | None]:
    """Each tool output's stub (``mask_observations``'s one line), None for other messages; a
    stub depends on its own message and call only, so all are made once per trajectory."""
    events = [_event(i, m, messages[i - 1] if i else None) for i, m in enumerate(messages)]
    out = mask_observations(events, 0)
    return [m.content if e.role == "tool" else None for m, e in zip(out, events, strict=True)]


def masked(roles: list[str], end: int, keep_last: int = MASK_KEEP) -> set[int]:
    """Indices before ``end`` of the tool outputs older than the last ``keep_last``."""
    outputs = [i for i in range(end) if roles[i] == "tool"]
    return set(outputs[: max(len(outputs) - keep_last, 0)])


def _event(i: int, message: dict[str, Any], before: dict[str, Any] | None) -> Event:
    role: EventRole = "user"
    if message["role"] == "assistant":
        role = "assistant"
    elif message["role"] == "tool":
        role = "tool"
    tool, args = None, {}
    source = message if role == "assistant" else before if role == "tool" else None
    calls = (source or {}).get("tool_calls") or []
    if calls:
        tool = calls[0]["function"]["name"]
        if role == "assistant":
            try:
                loaded = json.loads(calls[0]["function"]["arguments"])
                args = loaded if isinstance(loaded, dict) else {}
            except json.JSONDecodeError:
                args = {}
    return Event(seq=i, role=role, content=message.get("content") or "", tool=tool, args=args)

"""A session's history as layers, and the ``State`` its events imply.

Each event becomes one ``history:<seq>`` layer in chronological order; newer events get higher
priority (700 down to 600), so under pressure the oldest go first. User messages carry the
intent: they rank above every other event (720 down to 701, newest first), so they go last.
Tool outputs are quoted data; all but the last ``keep_outputs`` are masked
(``compaction.mask_observations``). A stored summary replaces the events it covers with one
``history:summary`` layer. ``session_state`` derives what reminders and conditions look at.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

from contextos.context.blocks import quoted
from contextos.context.compaction import CompactionSummary, mask_observations, render_summary
from contextos.context.compress import density
from contextos.context.layers import Layer, State
from contextos.context.session import Event

__all__ = ["EDIT_TOOLS", "READ_TOOLS", "history_layers", "session_state"]

READ_TOOLS = frozenset({"read_file", "read", "view", "open_file", "cat"})
EDIT_TOOLS = frozenset({"edit_file", "edit", "str_replace", "apply_patch", "write_file", "replace"})
_NEWEST, _OLDEST, _USER_TOP = 700, 600, 720


def history_layers(
    events: Sequence[Event],
    *,
    summary: CompactionSummary | None = None,
    upto_seq: int = 0,
    keep_outputs: int = 3,
    session: str = "",
) -> list[Layer]:
    """Layers for the events after ``upto_seq`` (all when there is no summary)."""
    layers: list[Layer] = []
    if summary is not None:
        text = (
            f"Summary of session events 1-{upto_seq} (compacted; the full history is stored):\n"
            + render_summary(summary)
        )
        layers.append(
            Layer(
                id="history:summary",
                content=text,
                priority=_USER_TOP + 10,
                min_tokens=64,
                compressor=density,
                placement="history",
                why=f"structured summary of events 1-{upto_seq}",
            )
        )
    live = [e for e in events if e.seq > upto_seq]
    masked = mask_observations(live, keep_outputs, session)
    users_after = 0
    built: list[Layer] = []
    for i in range(len(masked) - 1, -1, -1):
        event = masked[i]
        age = len(masked) - 1 - i
        if event.role == "user":
            priority = _USER_TOP - min(users_after, _USER_TOP - _NEWEST - 1)
            users_after += 1
        else:
            priority = max(_NEWEST - age, _OLDEST)
        if event.role == "tool" and event.tool is None and i > 0 and masked[i - 1].tool:
            event = replace(event, tool=masked[i - 1].tool)
        built.append(_event_layer(event, age, priority, event.content != live[i].content))
    return layers + built[::-1]


def _norm(path: str) -> str:
    return path[2:] if path.startswith("./") else path


def _event_layer(event: Event, age: int, priority: int, was_masked: bool) -> Layer:
    why = f"{event.role} event {event.seq}, {age} event(s) ago"
    if event.role == "tool":
        status = "failed" if event.ok is False else "ok"
        why += f"; output of {event.tool or 'a tool'} ({status})"
        if was_masked:
            why += ", masked: an older tool output"
        return Layer(
            id=f"history:{event.seq}",
            content=event.content,
            priority=priority,
            min_tokens=48,
            compressor=density,
            placement="history",
            role="user",
            why=why,
            wrap=quoted(f"tool output: {event.tool or 'tool'} ({status})"),
        )
    content = event.content
    if event.role == "assistant" and event.tool:
        call = f"[tool call] {event.tool}({json.dumps(event.args, ensure_ascii=False)})"
        content = f"{content}\n{call}" if content else call
    return Layer(
        id=f"history:{event.seq}",
        content=content,
        priority=priority,
        min_tokens=24,
        compressor=density,
        placement="history",
        role="assistant" if event.role == "assistant" else "user",
        why=why,
    )


def session_state(
    events: Sequence[Event],
    *,
    task: str = "",
    work_paths: Sequence[str] = (),
    window_utilization: float = 0.0,
) -> State:
    """Turn, failure streak, files read, an edit about to touch an unread file, tools used."""
    turn = failures = failures_since = 0
    read: set[str] = set()
    used: set[str] = set()
    for event in events:
        if event.role == "assistant":
            turn += 1
        if event.role == "user":
            failures = 0
        if event.role == "tool" and event.ok is not None:
            failures = failures + 1 if event.ok is False else 0
            if failures and failures % 3 == 0:
                failures_since = turn
        if event.tool and event.role == "assistant":
            used.add(event.tool)
            path = event.args.get("path")
            if event.tool in READ_TOOLS and isinstance(path, str):
                read.add(_norm(path))
    unread = None
    last = events[-1] if events else None
    if last is not None and last.role == "assistant" and last.tool in EDIT_TOOLS:
        path = last.args.get("path")
        if isinstance(path, str) and _norm(path) not in read:
            unread = path
    paths = dict.fromkeys([*work_paths, *sorted(read), *([unread] if unread else [])])
    return State(
        turn=turn,
        task=task,
        consecutive_failures=failures,
        failures_since=failures_since,
        files_read=frozenset(read),
        unread_edit=unread,
        window_utilization=window_utilization,
        tools_used=frozenset(used),
        work_paths=tuple(paths),
    )

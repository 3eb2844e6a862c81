"""Reminders: short, event-driven, temporary layers appended after the task.

Each reminder is a layer whose ``condition`` names the event that triggers it and whose ``ttl``
(in turns, counted from the turn of the event) makes it disappear even while the condition
holds, so the model is nudged, not nagged:

- three failing tool calls in a row (again at six, nine...; shown for 2 turns);
- an edit about to run on a file never read in the session (shown for 1 turn);
- the window passing 80% of the budget (shown for 1 turn).

Left out: reminders written by users (they are rules or memories).
"""

from __future__ import annotations

from contextos.context.layers import Layer, State

__all__ = ["WINDOW_THRESHOLD", "reminder_layers"]

WINDOW_THRESHOLD = 0.8
_PRIORITY = 850


def _text(body: str) -> str:
    return f"<reminder>{body}</reminder>"


def reminder_layers(state: State) -> list[Layer]:
    """The three reminders, built for ``state``; ``pack`` keeps those whose event happened."""
    failures = state.consecutive_failures
    unread = state.unread_edit or ""
    pct = round(state.window_utilization * 100)
    return [
        Layer(
            id="reminder:failures",
            content=_text(
                f"The last {failures} tool calls failed in a row. Stop repeating the same "
                "approach: re-read the error output, check paths, names and arguments, then try "
                "a different approach or ask the user."
            ),
            priority=_PRIORITY,
            condition=lambda s: s.consecutive_failures >= 3,
            ttl=2,
            born=state.failures_since,
            placement="task",
            why="shown after 3 failing tool calls in a row",
        ),
        Layer(
            id="reminder:unread-edit",
            content=_text(
                f"You are about to edit {unread}, which you have not read in this session. "
                "Read it first so the edit matches the file as it is now."
            ),
            priority=_PRIORITY,
            condition=lambda s: s.unread_edit is not None,
            ttl=1,
            born=state.turn,
            placement="task",
            why="shown before an edit to a file that was never read",
        ),
        Layer(
            id="reminder:window",
            content=_text(
                f"The context wanted {pct}% of the token budget: older tool outputs are masked "
                "and low-priority context is shrunk or left out. Finish the current step, then "
                "compact the session or hand off to a fresh thread."
            ),
            priority=_PRIORITY,
            condition=lambda s: s.window_utilization >= WINDOW_THRESHOLD,
            ttl=1,
            born=state.turn,
            placement="task",
            why=f"shown when the window passes {WINDOW_THRESHOLD:.0%} of the budget",
        ),
    ]

"""The window one agent step sent, read back from its trajectory row as a ``Pack``.

``contextos context --session RUN_ID --html FILE [--step N]`` renders a recorded step with
``context.html.render_html``: each message the step sent becomes one layer (the system prompt,
the task, the condensed older history, the turns sent whole, the todo list), with the tokens
the window builder counted for it, and the row's ``WindowReport`` (which history messages went
whole, excerpted or dropped) becomes notes. Nothing is rebuilt: the messages are the row's
``sent``, exactly what the model received. Left out: the text of dropped messages (the row does
not keep the history, only what was sent; ``contextos agent show RUN_ID --step K`` of an earlier
step shows them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from contextos.agent.window import is_condensed, message_text
from contextos.context.counting import count_all, counter_for
from contextos.context.report import LayerReport, Pack

__all__ = ["StepView", "step_view"]


@dataclass(frozen=True, slots=True)
class StepView:
    """A recorded step as a pack (for the page), its notes, and the exact messages sent."""

    pack: Pack
    notes: list[str]
    messages: list[dict[str, Any]]


def step_view(row: dict[str, Any]) -> StepView:
    """The view of one ``trajectory.jsonl`` row (see the module doc)."""
    sent: list[dict[str, Any]] = row["sent"]
    window: dict[str, Any] = row["window"] if isinstance(row.get("window"), dict) else {}
    report: dict[str, Any] | None = window.get("report")
    if not isinstance(report, dict):
        report = None  # rows written before the report was a dict
    counts = window.get("message_tokens")
    if not (isinstance(counts, list) and len(counts) == len(sent)):
        counts = count_all(counter_for("gpt-4o"), [message_text(m) for m in sent])
    labels = _labels(sent, report)
    layers = tuple(
        _layer(label, m, int(n)) for label, m, n in zip(labels, sent, counts, strict=True)
    )
    used = sum(r.tokens for r in layers)
    budget = window.get("budget")
    budget = budget if isinstance(budget, int) else used
    return StepView(Pack(budget, "recorded", layers), _notes(row, report), sent)


def _labels(sent: list[dict[str, Any]], report: dict[str, Any] | None) -> list[str]:
    """A layer id per sent message: ``system``, ``task``, ``history:condensed``,
    ``history:#12 assistant``, ``tool:#13``, ``reminder:todo``."""
    whole = list(report.get("whole", [])) if report else []
    labels: list[str] = []
    k = 0
    for n, m in enumerate(sent):
        content = str(m.get("content") or "")
        if n == len(sent) - 1 and m["role"] == "user" and content.startswith("Todo list:"):
            labels.append("reminder:todo")
        elif is_condensed(m):
            labels.append("history:condensed")
        else:
            index = whole[k] if k < len(whole) else n
            k += 1
            if m["role"] == "system":
                labels.append("system")
            elif index == 1 and m["role"] == "user":
                labels.append("task")
            elif m["role"] == "tool":
                labels.append(f"tool:#{index}")
            else:
                labels.append(f"history:#{index} {m['role']}")
    return labels


def _layer(label: str, message: dict[str, Any], tokens: int) -> LayerReport:
    text = _text(message)
    condensed = label == "history:condensed"
    why = {
        "system": "the instructions and the packed rules, memories and code hits",
        "task": "the task",
        "history:condensed": "older turns cut to the lines that last mention each name",
        "reminder:todo": "the todo list and any reminder, last in every window",
    }.get(label, "a turn of the history, sent whole")
    return LayerReport(
        id=label,
        status="truncated" if condensed else "included",
        cause="shrunk" if condensed else "fit",
        reason="excerpts of older messages" if condensed else "sent whole",
        tokens=tokens,
        whole=tokens,
        priority=0,
        reserved=0,
        min_tokens=0,
        compressible=condensed,
        placement="system" if message["role"] == "system" else "history",
        role="assistant" if message["role"] == "assistant" else "user",
        why=why,
        text=text,
        original="",
    )


def _text(message: dict[str, Any]) -> str:
    parts = [str(message.get("content") or "")]
    for call in message.get("tool_calls") or []:
        fn = call.get("function", {})
        parts.append(f"-> {fn.get('name')}({fn.get('arguments')})")
    return "\n".join(p for p in parts if p)


def _notes(row: dict[str, Any], report: dict[str, Any] | None) -> list[str]:
    notes = []
    if report is not None:
        notes.append("history sent whole: " + _ranges(report.get("whole", [])))
        cut = [f"#{i} ({kept} of {total} lines)" for i, kept, total in report.get("excerpted", [])]
        notes.append("history excerpted: " + (", ".join(cut) or "none"))
        notes.append("history dropped: " + _ranges(report.get("dropped", [])))
    calls = row.get("calls") or []
    for name, arguments in calls:
        shown = arguments if len(arguments) <= 200 else arguments[:200] + "…"
        notes.append(f"the model then called {name}({shown})")
    if not calls and row.get("text"):
        notes.append("the model then answered: " + json.dumps(str(row["text"])[:200]))
    return notes


def _ranges(indices: list[int]) -> str:
    """``[0, 1, 5, 6, 7]`` -> ``#0-1, #5-7``."""
    out: list[list[int]] = []
    for i in sorted(indices):
        if out and out[-1][1] == i - 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return ", ".join(f"#{a}" if a == b else f"#{a}-{b}" for a, b in out) or "none"

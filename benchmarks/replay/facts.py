"""What a step needs from its history, and whether a window carries it (the metric).

A *needed fact* of assistant step ``t``: a match of any one of ``PATTERNS`` (each searched on
its own, so a path yields its identifiers too) in the step's joined tool-call argument strings,
not in ``STOPWORDS`` (any case), of 3+ characters, not a substring of the task text (system +
first user message) and a substring of the earlier messages joined. Its *source line*: the last
line of the earlier messages that contains it, stripped. ``line_recall`` counts facts whose
source line appears whole in the window text, ``fact_recall`` those whose string does.
Message text is ``contextos.agent.window.message_text`` (one rule for cost and content).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["PATTERNS", "STOPWORDS", "Fact", "call_arguments", "needed_facts", "recall"]

PATTERNS = (
    re.compile(
        r"[\w.-]*/[\w./-]+|[\w-]+\.(?:py|txt|cfg|toml|rst|md|json|yaml|yml|ini|c|h|js|ts)\b"
    ),
    re.compile(r"\b[A-Za-z_][A-Za-z0-9_]{5,}\b"),
    re.compile(r"\b\d{3,}\b"),
)
STOPWORDS = frozenset(
    ["testbed", "python", "import", "return", "print", "assert", "string", "lambda", "format"]
)


@dataclass(frozen=True, slots=True)
class Fact:
    text: str
    line: str


def call_arguments(message: dict[str, Any]) -> str:
    """The message's tool-call argument strings, joined by newlines."""
    calls = message.get("tool_calls") or []
    return "\n".join(str(c.get("function", {}).get("arguments", "")) for c in calls)


def needed_facts(arguments: str, task: str, earlier: str) -> list[Fact]:
    """The needed facts of a step whose calls have ``arguments`` (see the module doc)."""
    found = dict.fromkeys(m for p in PATTERNS for m in p.findall(arguments))
    out = []
    for text in found:
        if text.lower() in STOPWORDS or len(text) < 3 or text in task:
            continue
        at = earlier.rfind(text)
        if at < 0:
            continue
        start = earlier.rfind("\n", 0, at) + 1
        end = earlier.find("\n", at)
        out.append(Fact(text, earlier[start : end if end >= 0 else len(earlier)].strip()))
    return out


def recall(facts: list[Fact], window: str) -> tuple[int, int]:
    """``(facts whose source line is in window, facts whose string is)``."""
    lines = sum(1 for f in facts if f.line in window)
    strings = sum(1 for f in facts if f.text in window)
    return lines, strings

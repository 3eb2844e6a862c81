"""Stuck detection: an agent repeating itself gets a reminder, then is stopped.

Patterns (after OpenHands' stuck detector): the same action with the same observation three
times in a row; three error observations in a row; an A-B-A-B alternation of actions with
unchanged observations. ``check`` returns the reason when a pattern holds for the newest step.
Left out: semantic similarity of actions (only exact repeats count).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

__all__ = ["StuckDetector"]


@dataclass(slots=True)
class StuckDetector:
    """Feed each step's actions and observations with ``record``; ask ``check``."""

    steps: deque[tuple[str, str, bool]] = field(default_factory=lambda: deque(maxlen=6))

    def record(self, action: str, observation: str, error: bool) -> None:
        """One step: ``action`` a canonical text of its tool calls, ``observation`` theirs."""
        self.steps.append((action, observation, error))

    def check(self) -> str | None:
        """Why the agent looks stuck after the newest step, or ``None``."""
        s = list(self.steps)
        if len(s) >= 3 and s[-1][:2] == s[-2][:2] == s[-3][:2]:
            return "the same action gave the same result three times in a row"
        if len(s) >= 3 and all(err for _, _, err in s[-3:]):
            return "three tool errors in a row"
        if len(s) >= 4 and s[-1][:2] == s[-3][:2] and s[-2][:2] == s[-4][:2] and s[-1] != s[-2]:
            return "the actions alternate between two steps without progress (A-B-A-B)"
        return None

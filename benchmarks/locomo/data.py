"""Reading a LoCoMo file into turns and scorable questions.

One turn = one memory: its text is ``"<speaker>: <text>"``, followed by ``" [shares <caption>]"``
when the turn carries an image caption (``blip_caption``), and it is valid from its session's
date-time (read as UTC; LoCoMo gives no zone). Questions of category 5 (adversarial, no answer)
are left out; a question whose evidence normalises to nothing (``benchmarks.locomo.metrics``) is
kept aside as skipped. Left out: the event and session summaries and observations the file also has.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.locomo.metrics import normalise_evidence

__all__ = ["CATEGORIES", "Conversation", "Question", "Turn", "load_conversations"]

CATEGORIES = (1, 2, 3, 4)
DATE_FORMAT = "%I:%M %p on %d %B, %Y"
_SESSION_KEY = re.compile(r"session_(\d+)")


@dataclass(frozen=True)
class Turn:
    dia_id: str
    speaker: str
    text: str
    valid_from: dt.datetime


@dataclass(frozen=True)
class Question:
    index: int
    """Position in the conversation's ``qa`` list."""
    question: str
    category: int
    gold: tuple[str, ...]
    dropped: tuple[str, ...]
    """Evidence parts that named no turn and were dropped."""
    raw: tuple[str, ...]
    """The ``evidence`` list as the file has it."""


@dataclass
class Conversation:
    index: int
    sample_id: str
    turns: list[Turn]
    questions: list[Question]
    skipped: list[dict[str, Any]] = field(default_factory=list)
    """Questions in categories 1–4 with no valid evidence: index, question, raw evidence."""


def turn_text(turn: dict[str, Any]) -> str:
    """``"<speaker>: <text>"`` plus the shared image's caption, if the turn has one."""
    text = f"{turn['speaker']}: {turn['text']}"
    caption = turn.get("blip_caption")
    return f"{text} [shares {caption}]" if caption else text


def parse_session_time(value: str) -> dt.datetime:
    """``"1:56 pm on 8 May, 2023"`` → an aware UTC datetime."""
    return dt.datetime.strptime(value.strip(), DATE_FORMAT).replace(tzinfo=dt.UTC)


def _turns(conversation: dict[str, Any]) -> list[Turn]:
    sessions = sorted(
        (int(m[1]), key)
        for key, value in conversation.items()
        if (m := _SESSION_KEY.fullmatch(key)) and isinstance(value, list)
    )
    turns: list[Turn] = []
    for _, key in sessions:
        when = parse_session_time(conversation[f"{key}_date_time"])
        for t in conversation[key]:
            turns.append(Turn(t["dia_id"], t["speaker"], turn_text(t), when))
    return turns


def _conversation(index: int, raw: dict[str, Any]) -> Conversation:
    turns = _turns(raw["conversation"])
    valid = {t.dia_id for t in turns}
    conv = Conversation(index, str(raw.get("sample_id", index)), turns, [])
    for i, qa in enumerate(raw["qa"]):
        category = int(qa["category"])
        if category not in CATEGORIES:
            continue
        gold, dropped = normalise_evidence(qa.get("evidence", []), valid)
        if not gold:
            conv.skipped.append(
                {"index": i, "question": qa["question"], "evidence": qa.get("evidence", [])}
            )
            continue
        raw_evidence = tuple(qa.get("evidence", []))
        conv.questions.append(
            Question(i, qa["question"], category, tuple(gold), tuple(dropped), raw_evidence)
        )
    return conv


def load_conversations(path: Path, only: list[int] | None = None) -> list[Conversation]:
    """The conversations of a LoCoMo JSON file (all, or those at the indices in ``only``)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    wanted = range(len(data)) if only is None else only
    for i in wanted:
        if not 0 <= i < len(data):
            raise ValueError(f"conversation {i} is not in {path} (it has {len(data)})")
    return [_conversation(i, data[i]) for i in wanted]

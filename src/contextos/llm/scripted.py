"""``ScriptedLLM``: a real ``LLM`` that replays given answers, for tests and demos.

Answers are consumed in order; a structured request goes through the same validation and
re-ask loop as the network adapters, so a malformed scripted answer is re-asked exactly as a
real one would be. Every call's messages are recorded in ``calls``. Running out of answers
raises ``ModelOutputError`` (a test that asks more than it scripted is wrong).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from pydantic import BaseModel

from contextos.llm.protocol import Completion, Message, Usage
from contextos.llm.structured import ModelOutputError, complete_structured

__all__ = ["ScriptedLLM"]


class ScriptedLLM:
    def __init__(self, answers: Iterable[str], *, name: str = "scripted:test") -> None:
        self._answers = list(answers)
        self._name = name
        self.calls: list[list[Message]] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def remaining(self) -> int:
        return len(self._answers)

    def _raw(self, messages: list[Message]) -> tuple[str, Usage]:
        started = time.perf_counter()
        self.calls.append(list(messages))
        if not self._answers:
            raise ModelOutputError("ScriptedLLM has no answers left", raw_text="")
        text = self._answers.pop(0)
        words_in = sum(len(m["content"].split()) for m in messages)
        return text, Usage(words_in, len(text.split()), (time.perf_counter() - started) * 1000)

    def complete(
        self,
        messages: list[Message],
        *,
        schema: type[BaseModel] | None = None,
        temperature: float = 0.0,
    ) -> Completion:
        if schema is not None:
            return complete_structured(self._raw, messages, schema, model=self._name)
        text, usage = self._raw(messages)
        return Completion(text=text, usage=usage, model=self._name)

"""``ScriptedLLM``: a real ``LLM`` and ``ToolLLM`` that replays given answers, for tests and demos.

``answers`` (strings) are consumed in order by ``complete``; a structured request goes through
the same validation and re-ask loop as the network adapters, so a malformed scripted answer is
re-asked exactly as a real one would be. ``turns`` are consumed in order by ``chat``; each is a
string (a text-only turn), a ``Turn``, or a dict ``{"text": str, "tool_calls": [{"name": str,
"arguments": dict | str}]}`` whose calls get the ids ``call_1``, ``call_2``, ... in script
order (an ``"id"`` key overrides). Dict arguments are sent as JSON text, string arguments as
they are, malformed or not. Every call's messages are recorded in ``calls`` and its tool specs
at the same index in ``tools`` (``[]`` for ``complete``). Running out of answers or turns
raises ``ModelOutputError`` (a test that asks more than it scripted is wrong).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from contextos.llm.protocol import (
    ChatMessage,
    Completion,
    Message,
    ToolCall,
    ToolSpec,
    Turn,
    Usage,
)
from contextos.llm.structured import ModelOutputError, complete_structured

__all__ = ["ScriptedLLM", "ScriptedTurn"]

ScriptedTurn = str | Turn | Mapping[str, Any]
"""One scripted ``chat`` reply: text only, a ``Turn``, or ``{"text", "tool_calls"}``."""


class ScriptedLLM:
    def __init__(
        self,
        answers: Iterable[str] = (),
        *,
        turns: Iterable[ScriptedTurn] = (),
        name: str = "scripted:test",
    ) -> None:
        self._answers = list(answers)
        self._ids = 0
        self._turns = [self._turn(item) for item in turns]
        self._name = name
        self.calls: list[list[ChatMessage]] = []
        self.tools: list[list[ToolSpec]] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def remaining(self) -> int:
        """Answers and turns not yet replayed."""
        return len(self._answers) + len(self._turns)

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

    def chat(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec],
        temperature: float = 0.0,
    ) -> Turn:
        started = time.perf_counter()
        self.calls.append(list(messages))
        self.tools.append(list(tools))
        if not self._turns:
            raise ModelOutputError("ScriptedLLM has no turns left", raw_text="")
        turn = self._turns.pop(0)
        words_out = _words(turn.text) + sum(_words(c.arguments) for c in turn.tool_calls)
        usage = Usage(_words_in(messages), words_out, (time.perf_counter() - started) * 1000)
        stop = turn.stop_reason or ("tool_calls" if turn.tool_calls else "stop")
        return Turn(turn.text, list(turn.tool_calls), usage, self._name, stop)

    def _raw(self, messages: list[Message]) -> tuple[str, Usage]:
        started = time.perf_counter()
        self.calls.append(list(messages))
        self.tools.append([])
        if not self._answers:
            raise ModelOutputError("ScriptedLLM has no answers left", raw_text="")
        text = self._answers.pop(0)
        usage = Usage(_words_in(messages), _words(text), (time.perf_counter() - started) * 1000)
        return text, usage

    def _turn(self, item: ScriptedTurn) -> Turn:
        if isinstance(item, str):
            return Turn(item)
        if isinstance(item, Turn):
            return item
        calls = [self._call(call) for call in item.get("tool_calls") or []]
        return Turn(item.get("text") or "", calls, stop_reason=item.get("stop_reason") or "")

    def _call(self, call: Mapping[str, Any]) -> ToolCall:
        self._ids += 1
        arguments = call.get("arguments", {})
        raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
        return ToolCall(call.get("id") or f"call_{self._ids}", call["name"], raw)


def _words(text: object) -> int:
    return len(text.split()) if isinstance(text, str) else 0


def _words_in(messages: Iterable[Mapping[str, Any]]) -> int:
    return sum(_words(m.get("content")) for m in messages)

"""The ``LLM`` and ``ToolLLM`` protocols and their value types.

``LLM.complete(messages, *, schema=None, temperature=0)`` sends chat messages and returns a
``Completion``: the text, the parsed pydantic object when a ``schema`` (a pydantic model class)
was given, token usage and latency. Adapters validate structured replies and re-ask on invalid
output (see ``structured.py``); after the retries they raise ``ModelOutputError`` keeping the raw
text. Messages are plain dicts ``{"role": "system"|"user"|"assistant", "content": str}``.

``ToolLLM.chat(messages, *, tools, temperature=0)`` is one turn of a tool-using conversation:
it returns a ``Turn`` with the reply text and any number of ``ToolCall``s, and never runs a
tool itself (the caller does, then appends the results and calls ``chat`` again). Tool specs
are ``{"name": str, "description": str, "parameters": <JSON schema object>}``. Chat messages
are OpenAI-format dicts (``ChatMessage``), whichever the provider: the plain ones above, an
assistant turn that called tools ``{"role": "assistant", "content": str | None, "tool_calls":
[{"id", "type": "function", "function": {"name", "arguments"}}]}`` and a tool result
``{"role": "tool", "tool_call_id": str, "content": str}``; adapters translate them. A
``ToolCall``'s ``arguments`` is the JSON text the model sent, unparsed and possibly malformed:
judging it is the caller's job, so no adapter raises on it. Left out: forcing a tool choice,
parallel-call switches, streaming and images.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

__all__ = [
    "LLM",
    "ChatMessage",
    "Completion",
    "Message",
    "SchemaT",
    "ToolCall",
    "ToolLLM",
    "ToolSpec",
    "Turn",
    "Usage",
]

Message = dict[str, str]
ChatMessage = dict[str, Any]
"""An OpenAI-format chat message, possibly with ``tool_calls`` or a ``tool_call_id``."""
ToolSpec = dict[str, Any]
"""``{"name": str, "description": str, "parameters": <JSON schema object>}``."""
SchemaT = TypeVar("SchemaT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage of one call (as the provider reported it) and its wall-clock latency."""

    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class Completion:
    """A model's answer. ``parsed`` is set (and valid) iff a schema was requested.
    ``attempts`` counts calls made, re-asks included; ``usage`` sums over them."""

    text: str
    parsed: Any = None
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    attempts: int = 1


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool call the model asked for. ``id`` pairs it with its result message;
    ``arguments`` is the raw JSON text as sent, valid or not."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Turn:
    """One reply of a tool-using conversation: text (may be empty), the tool calls in the
    order the model made them (empty when it is done), usage, the ``provider:model`` name and
    the provider's own stop reason (e.g. OpenAI ``tool_calls``/``stop``/``length``,
    Anthropic ``tool_use``/``end_turn``/``max_tokens``)."""

    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    stop_reason: str = ""


@runtime_checkable
class LLM(Protocol):
    """A chat model. ``name`` is ``provider:model`` (e.g. ``openai:gpt-4.1-mini``)."""

    @property
    def name(self) -> str: ...

    def complete(
        self,
        messages: list[Message],
        *,
        schema: type[BaseModel] | None = None,
        temperature: float = 0.0,
    ) -> Completion: ...


@runtime_checkable
class ToolLLM(Protocol):
    """A chat model that can call tools. ``name`` is ``provider:model``."""

    @property
    def name(self) -> str: ...

    def chat(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec],
        temperature: float = 0.0,
    ) -> Turn: ...

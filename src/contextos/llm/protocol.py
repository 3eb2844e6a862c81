"""The ``LLM`` protocol and its value types.

``complete(messages, *, schema=None, temperature=0)`` sends chat messages and returns a
``Completion``: the text, the parsed pydantic object when a ``schema`` (a pydantic model class)
was given, token usage and latency. Adapters validate structured replies and re-ask on invalid
output (see ``structured.py``); after the retries they raise ``ModelOutputError`` keeping the raw
text. Messages are plain dicts ``{"role": "system"|"user"|"assistant", "content": str}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

__all__ = ["LLM", "Completion", "Message", "SchemaT", "Usage"]

Message = dict[str, str]
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

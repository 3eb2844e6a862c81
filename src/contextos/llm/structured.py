"""Structured output shared by every adapter: schema → request, validate, bounded re-ask.

``complete_structured(raw_call, messages, schema, max_reasks=2)`` calls ``raw_call(messages)``
(which returns the reply text and usage), validates the text against the pydantic ``schema``,
and on invalid or malformed JSON appends the reply and the validation error to the conversation
and asks again, at most ``max_reasks`` times. Then it raises ``ModelOutputError`` carrying the
last raw text. Code fences around JSON are tolerated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from contextos.errors import ModelOutputError
from contextos.llm.protocol import Completion, Message, Usage

__all__ = ["ModelOutputError", "RawCall", "complete_structured", "json_schema_for", "parse_reply"]

RawCall = Callable[[list[Message]], tuple[str, Usage]]

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S)


def json_schema_for(schema: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema sent to providers (``additionalProperties: false`` for strict mode)."""
    out = schema.model_json_schema()
    out.setdefault("additionalProperties", False)
    return out


def parse_reply(text: str, schema: type[BaseModel]) -> BaseModel:
    """Validate ``text`` (JSON, optionally fenced) against ``schema``; raises ValidationError
    or ValueError (malformed JSON)."""
    match = _FENCE.match(text)
    payload = match.group(1) if match else text
    return schema.model_validate(json.loads(payload))


def complete_structured(
    raw_call: RawCall,
    messages: list[Message],
    schema: type[BaseModel],
    *,
    model: str = "",
    max_reasks: int = 2,
) -> Completion:
    convo = list(messages)
    total_in = total_out = 0
    latency = 0.0
    text = ""
    for attempt in range(1, max_reasks + 2):
        text, usage = raw_call(convo)
        total_in += usage.input_tokens
        total_out += usage.output_tokens
        latency += usage.latency_ms
        try:
            parsed = parse_reply(text, schema)
        except (ValidationError, ValueError) as exc:
            error = str(exc)
            convo = [
                *convo,
                {"role": "assistant", "content": text},
                {
                    "role": "user",
                    "content": (
                        f"Your reply was not valid JSON for the schema {schema.__name__}: {error}\n"
                        "Reply again with only the corrected JSON object."
                    ),
                },
            ]
            continue
        return Completion(
            text=text,
            parsed=parsed,
            usage=Usage(total_in, total_out, latency),
            model=model,
            attempts=attempt,
        )
    raise ModelOutputError(
        f"model output did not match {schema.__name__} after {max_reasks} re-asks; "
        f"raw reply kept on the error: {text[:200]!r}",
        raw_text=text,
    )

"""``AnthropicChat``: the ``LLM`` and ``ToolLLM`` protocols over Anthropic's ``/v1/messages``,
on the official ``anthropic`` SDK.

System messages go into the ``system`` parameter; consecutive turns of one role are merged (the
API wants them alternating), as text when they are all text, else as content blocks. Tool
calling translates the OpenAI-format conversation both ways: specs become ``{"name",
"description", "input_schema"}``; an assistant's ``tool_calls`` become ``tool_use`` blocks
(``input`` is the parsed arguments; arguments that are not a JSON object become ``{}``, with the
raw text kept in a text block before the call so the model still sees what it sent); ``tool``
messages become ``tool_result`` blocks of a user turn, consecutive ones in one turn; and
``tool_use`` blocks in the reply come back as ``ToolCall``s with ``arguments`` =
``json.dumps(input)``. Structured output is a forced tool call whose ``input_schema`` is
the pydantic model's JSON schema; the tool input, as JSON text, goes through the shared
validate-and-re-ask loop, and a reply without a ``tool_use`` block falls back to its text.
Retries, error translation and the call log are shared with ``OpenAIChat``. ``temperature`` is
accepted for the protocol but not sent: API version 2026-10-21 (the default of SDK 2.x)
rejects sampling parameters. Leaves out streaming, async, prompt caching, extended thinking
and images.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from contextos.errors import ConfigError, ModelError
from contextos.llm.protocol import ChatMessage, Message, ToolCall, ToolSpec, Turn, Usage
from contextos.llm.sdk_chat import RetryPolicy, SdkChat, endpoint, import_sdk, schema_name
from contextos.llm.structured import json_schema_for

if TYPE_CHECKING:
    from anthropic import Anthropic

__all__ = ["AnthropicChat", "anthropic_tool", "split_system"]

_ANTHROPIC_URL = "https://api.anthropic.com"


def split_system(messages: Sequence[Mapping[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Anthropic's shape: all system contents joined, other turns (OpenAI-format, tool calls
    and results included) as content blocks merged per consecutive role; a turn of text blocks
    only is sent as one string, its parts joined by blank lines."""
    system: list[str] = []
    turns: list[tuple[str, list[dict[str, Any]]]] = []
    for m in messages:
        if m["role"] == "system":
            system.append(m["content"])
            continue
        role = "user" if m["role"] == "tool" else m["role"]
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(_blocks(m))
        else:
            turns.append((role, _blocks(m)))
    return "\n\n".join(system), [{"role": r, "content": _content(b)} for r, b in turns]


def _blocks(m: Mapping[str, Any]) -> list[dict[str, Any]]:
    if m["role"] == "tool":
        return [{"type": "tool_result", "tool_use_id": m["tool_call_id"], "content": m["content"]}]
    blocks: list[dict[str, Any]] = [{"type": "text", "text": m.get("content") or ""}]
    for call in m.get("tool_calls") or []:
        fn = call["function"]
        try:
            tool_input = json.loads(fn["arguments"])
        except (TypeError, ValueError):
            tool_input = None
        if not isinstance(tool_input, dict):
            note = f"(arguments of {fn['name']} call {call['id']}, not a JSON object: "
            blocks.append({"type": "text", "text": note + f"{fn['arguments']})"})
            tool_input = {}
        blocks.append(
            {"type": "tool_use", "id": call["id"], "name": fn["name"], "input": tool_input}
        )
    return blocks


def _content(blocks: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    """Text-only turns as one string; otherwise the blocks, without empty text blocks (which
    the API rejects)."""
    if all(b["type"] == "text" for b in blocks):
        return "\n\n".join(b["text"] for b in blocks)
    return [b for b in blocks if b["type"] != "text" or b["text"]]


def anthropic_tool(spec: ToolSpec) -> dict[str, Any]:
    """A tool spec ``{"name", "description", "parameters"}`` in Anthropic's shape."""
    return {
        "name": spec["name"],
        "description": spec.get("description", ""),
        "input_schema": spec.get("parameters") or {"type": "object", "properties": {}},
    }


class AnthropicChat(SdkChat):
    """``LLM`` and ``ToolLLM`` over the Anthropic Messages API.

    ``base_url`` defaults to ``ANTHROPIC_BASE_URL``, then Anthropic's; ``api_key`` to
    ``ANTHROPIC_API_KEY``. Without a key, a local server gets a placeholder and any other URL
    is a ``ConfigError``. ``max_tokens`` caps each reply (the API requires it). Latency is
    wall-clock per request, retries included. Call ``close()`` (or use ``with``).
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        max_retry_wait_s: float = 30.0,
        max_reasks: int = 2,
        max_tokens: int = 4096,
    ) -> None:
        if not model:
            raise ConfigError(
                "AnthropicChat needs a model, e.g. CONTEXTOS_MODEL=anthropic:claude-sonnet-5-5"
            )
        url, key = endpoint(
            f"anthropic:{model}",
            base_url,
            api_key,
            url_env="ANTHROPIC_BASE_URL",
            key_env="ANTHROPIC_API_KEY",
            default_url=_ANTHROPIC_URL,
            key_hint="https://console.anthropic.com/settings/keys",
        )
        sdk = import_sdk("anthropic")
        super().__init__(
            model,
            f"anthropic:{model}",
            url,
            sdk,
            key_env="ANTHROPIC_API_KEY",
            retry=RetryPolicy(max_retries, backoff_s, max_retry_wait_s),
            max_reasks=max_reasks,
        )
        self._client: Anthropic = sdk.Anthropic(
            api_key=key, base_url=url, timeout=timeout, max_retries=0
        )
        self._max_tokens = max_tokens

    def _request(
        self, convo: list[Message], schema: type[BaseModel] | None, temperature: float
    ) -> tuple[str, Usage]:
        kwargs = self._kwargs(convo)
        if schema is not None:
            name = schema_name(schema)
            kwargs["tools"] = [
                {
                    "name": name,
                    "description": f"Reply with one {name} object.",
                    "input_schema": json_schema_for(schema),
                }
            ]
            kwargs["tool_choice"] = {"type": "tool", "name": name}
        response, latency = self._send(lambda: self._client.messages.create(**kwargs))
        blocks, usage = self._read(response, latency)
        return _reply_text(blocks), usage

    def _chat_request(
        self, messages: list[ChatMessage], tools: list[ToolSpec], temperature: float
    ) -> Turn:
        kwargs = self._kwargs(messages)
        if tools:
            kwargs["tools"] = [anthropic_tool(spec) for spec in tools]
        response, latency = self._send(lambda: self._client.messages.create(**kwargs))
        blocks, usage = self._read(response, latency)
        text = "".join(b.text for b in blocks if getattr(b, "type", None) == "text")
        try:
            calls = [
                ToolCall(b.id, b.name, json.dumps(b.input))
                for b in blocks
                if getattr(b, "type", None) == "tool_use"
            ]
        except (AttributeError, TypeError) as exc:
            raise ModelError(
                f"{self._name} at {self._url} answered a malformed tool_use: {exc}"
            ) from exc
        stop = getattr(response, "stop_reason", None) or ""
        return Turn(text, calls, usage, self._name, str(stop))

    def _kwargs(self, messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Model, ``max_tokens``, system and turns; ``temperature`` is never sent (see the
        module docstring)."""
        system, turns = split_system(messages)
        kwargs: dict[str, Any] = {
            "model": self._model,
            "max_tokens": self._max_tokens,
            "messages": turns,
        }
        if system:
            kwargs["system"] = system
        return kwargs

    def _read(self, response: Any, latency: float) -> tuple[list[Any], Usage]:
        """The content blocks and the usage, or a ``ModelError``."""
        try:
            blocks = list(response.content)
            tokens_in = response.usage.input_tokens or 0
            tokens_out = response.usage.output_tokens or 0
        except (AttributeError, TypeError, ValueError) as exc:
            raise ModelError(
                f"{self._name} at {self._url} answered without content blocks: {exc}"
            ) from exc
        return blocks, Usage(int(tokens_in), int(tokens_out), latency)


def _reply_text(blocks: list[Any]) -> str:
    """The first ``tool_use`` block's input as JSON text, else the text blocks joined."""
    for block in blocks:
        if getattr(block, "type", None) == "tool_use":
            return json.dumps(block.input)
    return "".join(block.text for block in blocks if getattr(block, "type", None) == "text")

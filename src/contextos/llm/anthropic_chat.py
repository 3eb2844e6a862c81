"""``AnthropicChat``: the ``LLM`` protocol over Anthropic's ``/v1/messages``, on the official
``anthropic`` SDK.

System messages go into the ``system`` parameter; consecutive turns of one role are merged (the
API wants them alternating). Structured output is a forced tool call whose ``input_schema`` is
the pydantic model's JSON schema; the tool input, as JSON text, goes through the shared
validate-and-re-ask loop, and a reply without a ``tool_use`` block falls back to its text.
Retries, error translation and the call log are shared with ``OpenAIChat``. ``temperature`` is
accepted for the protocol but not sent: API version 2026-10-21 (the default of SDK 2.x)
rejects sampling parameters. Leaves out streaming, async, prompt caching, extended thinking
and images.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from contextos.errors import ConfigError, ModelError
from contextos.llm.openai_chat import (
    RetryPolicy,
    SdkChat,
    endpoint,
    import_sdk,
    schema_name,
)
from contextos.llm.protocol import Message, Usage
from contextos.llm.structured import json_schema_for

if TYPE_CHECKING:
    from anthropic import Anthropic

__all__ = ["AnthropicChat", "split_system"]

_ANTHROPIC_URL = "https://api.anthropic.com"


def split_system(messages: list[Message]) -> tuple[str, list[Message]]:
    """Anthropic's shape: all system contents joined, other turns merged per consecutive role."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    turns: list[Message] = []
    for m in messages:
        if m["role"] == "system":
            continue
        if turns and turns[-1]["role"] == m["role"]:
            turns[-1] = {"role": m["role"], "content": turns[-1]["content"] + "\n\n" + m["content"]}
        else:
            turns.append({"role": m["role"], "content": m["content"]})
    return system, turns


class AnthropicChat(SdkChat):
    """``LLM`` over the Anthropic Messages API.

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
        del temperature  # not sent: see the module docstring
        system, turns = split_system(convo)
        kwargs: dict[str, Any] = {
            "model": self._model,
            "max_tokens": self._max_tokens,
            "messages": turns,
        }
        if system:
            kwargs["system"] = system
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
        try:
            text = _reply_text(response.content)
            tokens_in = response.usage.input_tokens or 0
            tokens_out = response.usage.output_tokens or 0
        except (AttributeError, TypeError, ValueError) as exc:
            raise ModelError(
                f"{self._name} at {self._url} answered without content blocks: {exc}"
            ) from exc
        return text, Usage(int(tokens_in), int(tokens_out), latency)


def _reply_text(blocks: Any) -> str:
    """The first ``tool_use`` block's input as JSON text, else the text blocks joined."""
    for block in blocks:
        if getattr(block, "type", None) == "tool_use":
            return json.dumps(block.input)
    return "".join(block.text for block in blocks if getattr(block, "type", None) == "text")

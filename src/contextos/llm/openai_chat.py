"""``OpenAIChat``: the ``LLM`` and ``ToolLLM`` protocols over any OpenAI-compatible
``/v1/chat/completions`` endpoint (OpenAI, Ollama, vLLM, llama.cpp server, OpenRouter), on the
official ``openai`` SDK.

Retries, error translation and the call log come from ``SdkChat``. Structured output asks for
strict ``json_schema`` mode, then validates and re-asks through ``complete_structured``. Tool
calling is the wire format's own: specs go out as ``{"type": "function", "function": spec}``
(none at all when the list is empty, which the API rejects), messages go out as given, and each
of ``message.tool_calls`` comes back as a ``ToolCall`` with ``arguments`` untouched (a server
that sends an object instead of a string gets it re-encoded). Leaves out streaming, async,
``tool_choice`` and multimodal content.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from contextos.errors import ConfigError, ModelError
from contextos.llm.protocol import ChatMessage, Message, ToolCall, ToolSpec, Turn, Usage
from contextos.llm.sdk_chat import RetryPolicy, SdkChat, endpoint, import_sdk, schema_name
from contextos.llm.structured import json_schema_for

if TYPE_CHECKING:
    from openai import OpenAI

__all__ = ["OpenAIChat"]

_OPENAI_URL = "https://api.openai.com/v1"


class OpenAIChat(SdkChat):
    """``LLM`` and ``ToolLLM`` over an OpenAI-compatible chat endpoint.

    ``base_url`` defaults to ``OPENAI_BASE_URL``, then OpenAI's; ``api_key`` to
    ``OPENAI_API_KEY``. Without a key, a local or private-network server gets a placeholder
    key and any other URL is a ``ConfigError``. ``name`` is ``<provider>:<model>``. Latency
    is wall-clock per request, retries included. Call ``close()`` (or use ``with``).
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
        provider: str = "openai",
    ) -> None:
        if not model:
            raise ConfigError(
                "OpenAIChat needs a model name, e.g. CONTEXTOS_MODEL=openai:gpt-4.1-mini"
            )
        url, key = endpoint(
            f"{provider}:{model}",
            base_url,
            api_key,
            url_env="OPENAI_BASE_URL",
            key_env="OPENAI_API_KEY",
            default_url=_OPENAI_URL,
            key_hint="or point CONTEXTOS_MODEL_BASE_URL at a local server instead of {url}",
        )
        sdk = import_sdk("openai")
        super().__init__(
            model,
            f"{provider}:{model}",
            url,
            sdk,
            key_env="OPENAI_API_KEY",
            retry=RetryPolicy(max_retries, backoff_s, max_retry_wait_s),
            max_reasks=max_reasks,
        )
        self._client: OpenAI = sdk.OpenAI(api_key=key, base_url=url, timeout=timeout, max_retries=0)

    def _request(
        self, convo: list[Message], schema: type[BaseModel] | None, temperature: float
    ) -> tuple[str, Usage]:
        kwargs: dict[str, Any] = {
            "model": self._model,
            "messages": convo,
            "temperature": temperature,
        }
        if schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": schema_name(schema),
                    "schema": json_schema_for(schema),
                    "strict": True,
                },
            }
        response, latency = self._send(lambda: self._client.chat.completions.create(**kwargs))
        _, text, usage = self._read(response, latency)
        return text, usage

    def _chat_request(
        self, messages: list[ChatMessage], tools: list[ToolSpec], temperature: float
    ) -> Turn:
        kwargs: dict[str, Any] = {
            "model": self._model,
            "messages": messages,
            "temperature": temperature,
        }
        if tools:
            kwargs["tools"] = [{"type": "function", "function": spec} for spec in tools]
        response, latency = self._send(lambda: self._client.chat.completions.create(**kwargs))
        choice, text, usage = self._read(response, latency)
        try:
            calls = [
                _tool_call(call, n) for n, call in enumerate(choice.message.tool_calls or [], 1)
            ]
        except (AttributeError, TypeError) as exc:
            raise ModelError(
                f"{self._name} at {self._url} answered a malformed tool call: {exc}"
            ) from exc
        return Turn(text, calls, usage, self._name, str(choice.finish_reason or ""))

    def _read(self, response: Any, latency: float) -> tuple[Any, str, Usage]:
        """``choices[0]``, its text (or refusal) and the usage, or a ``ModelError``."""
        try:
            choice = response.choices[0]
            message = choice.message
            text = message.content or getattr(message, "refusal", None) or ""
            usage = response.usage
            tokens_in = (usage.prompt_tokens or 0) if usage else 0
            tokens_out = (usage.completion_tokens or 0) if usage else 0
        except (AttributeError, IndexError, TypeError) as exc:
            raise ModelError(
                f"{self._name} at {self._url} answered without choices[0].message: {exc}"
            ) from exc
        return choice, text, Usage(int(tokens_in), int(tokens_out), latency)


def _tool_call(call: Any, number: int) -> ToolCall:
    """A ``ToolCall`` from one of ``message.tool_calls``; servers that omit the id get
    ``call_<n>``, and ones that send the arguments as an object get them as JSON text."""
    arguments = call.function.arguments
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments if arguments is not None else {})
    return ToolCall(call.id or f"call_{number}", call.function.name, arguments)

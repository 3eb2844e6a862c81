"""``resolve_llm(settings)``: the chat model named by ``settings.model`` (``provider:model``).

Providers: ``openai:<model>`` (OpenAI, or any OpenAI-compatible server at
``settings.model_base_url``), ``anthropic:<model>`` and ``ollama:<model>`` (OpenAI-compatible,
default ``http://localhost:11434/v1``; the model part may itself contain colons, as in
``ollama:qwen3:8b``). ``ScriptedLLM`` is built in code, never from settings. No default model:
without one this raises ``ConfigError`` saying how to configure it.
"""

from __future__ import annotations

from contextos.errors import ConfigError
from contextos.llm.anthropic_chat import AnthropicChat
from contextos.llm.openai_chat import OpenAIChat
from contextos.llm.protocol import LLM, ToolLLM
from contextos.settings import Settings

__all__ = ["NO_MODEL_MESSAGE", "OLLAMA_URL", "resolve_llm", "resolve_tool_llm"]

OLLAMA_URL = "http://localhost:11434/v1"
NO_MODEL_MESSAGE = (
    "no model configured: set CONTEXTOS_MODEL=openai:gpt-4.1-mini (with OPENAI_API_KEY), "
    "anthropic:claude-... (with ANTHROPIC_API_KEY) or ollama:qwen3:8b "
    "(with CONTEXTOS_MODEL_BASE_URL if not on localhost:11434)"
)


def resolve_llm(settings: Settings) -> LLM:
    """Build the configured model; ``ConfigError`` if none, malformed or unknown provider."""
    spec = (settings.model or "").strip()
    if not spec:
        raise ConfigError(NO_MODEL_MESSAGE)
    provider, _, model = spec.partition(":")
    if not model:
        raise ConfigError(
            f"model {spec!r} names no provider: write provider:model, "
            "e.g. openai:gpt-4.1-mini, anthropic:claude-sonnet-5-5 or ollama:qwen3:8b"
        )
    timeout, retries = settings.model_timeout_s, settings.model_max_retries
    if provider == "openai":
        return OpenAIChat(
            model, base_url=settings.model_base_url, timeout=timeout, max_retries=retries
        )
    if provider == "ollama":
        # An explicit placeholder key: an OPENAI_API_KEY in the environment is not for Ollama.
        return OpenAIChat(
            model,
            base_url=settings.model_base_url or OLLAMA_URL,
            api_key="ollama",
            timeout=timeout,
            max_retries=retries,
            provider="ollama",
        )
    if provider == "anthropic":
        return AnthropicChat(
            model, base_url=settings.model_base_url, timeout=timeout, max_retries=retries
        )
    if provider == "scripted":
        raise ConfigError(
            "a scripted model cannot come from settings: build ScriptedLLM(answers) in code"
        )
    raise ConfigError(
        f"unknown model provider {provider!r} in {spec!r}: use openai:, anthropic: or ollama:"
    )


def resolve_tool_llm(settings: Settings) -> ToolLLM:
    """``resolve_llm``, for callers that need tool calling; ``ConfigError`` if it cannot."""
    llm = resolve_llm(settings)
    if not isinstance(llm, ToolLLM):
        raise ConfigError(f"model {settings.model!r} cannot call tools")
    return llm

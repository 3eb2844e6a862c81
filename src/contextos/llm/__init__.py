"""Model access behind two small protocols: ``LLM.complete(messages, *, schema=None)`` and,
for agents, ``ToolLLM.chat(messages, *, tools)`` returning a ``Turn`` with ``ToolCall``s.

Adapters: ``OpenAIChat`` (any OpenAI-compatible server) and ``AnthropicChat``, each over the
official SDK, imported only when an adapter is built, each implementing both protocols;
``ScriptedLLM`` replays given answers and turns.
``resolve_llm(settings)`` builds the one named by ``settings.model``.
"""

from contextos.llm.anthropic_chat import AnthropicChat
from contextos.llm.openai_chat import OpenAIChat
from contextos.llm.protocol import (
    LLM,
    ChatMessage,
    Completion,
    Message,
    ToolCall,
    ToolLLM,
    ToolSpec,
    Turn,
    Usage,
)
from contextos.llm.resolve import resolve_llm
from contextos.llm.scripted import ScriptedLLM
from contextos.llm.sdk_chat import CallRecord, RetryPolicy
from contextos.llm.structured import ModelOutputError, complete_structured

__all__ = [
    "LLM",
    "AnthropicChat",
    "CallRecord",
    "ChatMessage",
    "Completion",
    "Message",
    "ModelOutputError",
    "OpenAIChat",
    "RetryPolicy",
    "ScriptedLLM",
    "ToolCall",
    "ToolLLM",
    "ToolSpec",
    "Turn",
    "Usage",
    "complete_structured",
    "resolve_llm",
]

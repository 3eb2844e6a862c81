"""Model access behind one small protocol: ``LLM.complete(messages, *, schema=None)``.

Adapters: ``OpenAIChat`` (any OpenAI-compatible server) and ``AnthropicChat``, each over the
official SDK, imported only when an adapter is built; ``ScriptedLLM`` replays given answers.
``resolve_llm(settings)`` builds the one named by ``settings.model``.
"""

from contextos.llm.anthropic_chat import AnthropicChat
from contextos.llm.openai_chat import CallRecord, OpenAIChat, RetryPolicy
from contextos.llm.protocol import LLM, Completion, Message, Usage
from contextos.llm.resolve import resolve_llm
from contextos.llm.scripted import ScriptedLLM
from contextos.llm.structured import ModelOutputError, complete_structured

__all__ = [
    "LLM",
    "AnthropicChat",
    "CallRecord",
    "Completion",
    "Message",
    "ModelOutputError",
    "OpenAIChat",
    "RetryPolicy",
    "ScriptedLLM",
    "Usage",
    "complete_structured",
    "resolve_llm",
]

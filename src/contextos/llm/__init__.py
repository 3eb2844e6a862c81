"""Model access behind one small protocol: ``LLM.complete(messages, *, schema=None)``."""

from contextos.llm.protocol import LLM, Completion, Message, Usage
from contextos.llm.scripted import ScriptedLLM
from contextos.llm.structured import ModelOutputError, complete_structured

__all__ = [
    "LLM",
    "Completion",
    "Message",
    "ModelOutputError",
    "ScriptedLLM",
    "Usage",
    "complete_structured",
]

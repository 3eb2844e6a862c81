"""The structured replies the memory pipeline asks models for (pydantic models → JSON schema).

Each model carries ``__schema_name__``, the name sent as the provider's ``json_schema.name``.
Every field is required (nullable where "no value" is allowed) because OpenAI's strict mode
demands it.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "NO_MEMORY",
    "MemoryEvaluation",
    "MemoryExtraction",
    "MemoryMerge",
    "MemoryQueries",
    "MemoryUpdate",
]

NO_MEMORY = "no_memory_needed"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MemoryExtraction(_Strict):
    """Stage 1: one candidate ``tag: text``, or ``no_memory_needed``."""

    __schema_name__: ClassVar[str] = "memory_extraction"
    explanation: str = Field(description="Why this is, or is not, worth remembering.")
    memory: str = Field(description="'tag: text' or exactly 'no_memory_needed'.", min_length=1)


class MemoryEvaluation(_Strict):
    """Stage 2: a separate judgement of the candidate, 1 (useless) to 5 (explicitly asked)."""

    __schema_name__: ClassVar[str] = "memory_evaluation"
    reasoning: str
    score: int = Field(ge=1, le=5)


class MemoryUpdate(_Strict):
    """Stage 3: how the kept candidate changes the store. ``target`` numbers the listed similar
    memories from 1 (the model never sees real ids, so it cannot invent one)."""

    __schema_name__: ClassVar[str] = "memory_update"
    action: Literal["ADD", "UPDATE", "INVALIDATE", "NOOP"]
    target: int | None = Field(ge=1, le=5, description="Number of the listed memory, or null.")
    text: str = Field(description="The text to store (ADD, UPDATE, INVALIDATE).")


class MemoryQueries(_Strict):
    """Recall: 2–4 short sub-questions that together cover what the query needs."""

    __schema_name__: ClassVar[str] = "memory_queries"
    queries: list[str] = Field(min_length=2, max_length=4)


class MemoryMerge(_Strict):
    """Consolidate: one memory text that says everything a cluster of near-duplicates says."""

    __schema_name__: ClassVar[str] = "memory_merge"
    reasoning: str
    text: str = Field(min_length=1)

"""Layers for the fixed parts of a window: instructions, the task, code excerpts, memories.

Priorities, highest first (one scale for every source):

    1000  system instructions, task (both reserved)
     900  project rules
     850  reminders
     800  one-line tool index
     730  history summary
     720-701  user messages (newest first)
     700-600  other history events (newest first)
     550  full tool specs
     500  recalled memories
     400-1  code excerpts (by search rank)

Code excerpts and memories are quoted data on the user side (``blocks.quoted``); only the
instructions, rules and tool specs are system text. Left out: images and other attachments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from contextos.context.blocks import DATA_RULE, Excerpt, quoted
from contextos.context.compress import code_density, density
from contextos.context.layers import Layer

__all__ = [
    "MemoryItem",
    "code_layers",
    "memory_layer",
    "quoted_source",
    "system_layer",
    "task_layer",
]


@dataclass(frozen=True, slots=True)
class MemoryItem:
    """A recalled memory, as the memory engine returned it."""

    id: str
    tag: str
    text: str
    scope: str
    score: float


def system_layer(root: str) -> Layer:
    text = (
        f"You are a coding agent working in the repository at {root}. The context below was "
        "chosen for the task by contextos within a token budget; files not shown can be read "
        "with the tools. " + DATA_RULE
    )
    return Layer(
        id="system",
        content=text,
        priority=1000,
        reserved_tokens=1,
        placement="system",
        why="instructions and the data-block rule",
    )


def task_layer(task: str, budget: int) -> Layer:
    return Layer(
        id="task",
        content=f"Task:\n{task}",
        priority=1000,
        reserved_tokens=max(64, budget // 4),
        min_tokens=32,
        compressor=density,
        placement="task",
        why="the task, always packed (shrunk to a quarter of the budget at worst)",
    )


def code_layers(excerpts: Sequence[Excerpt]) -> list[Layer]:
    """One data layer per file, ranked by its best search hit."""
    return [
        Layer(
            id=f"code:{ex.path}",
            content=ex.render(),
            priority=max(400 - ex.rank, 1),
            min_tokens=128,
            compressor=code_density,
            placement="context",
            why=f"search rank {ex.rank} (score {ex.score:.3f}): lines {ex.ranges}",
            wrap=quoted(quoted_source(ex.path)),
        )
        for ex in excerpts
    ]


def quoted_source(path: str) -> str:
    """How a code layer's data block names its file."""
    return f"{path} (repository file)"


def memory_layer(memories: Sequence[MemoryItem]) -> Layer | None:
    """All recalled memories in one data layer, best first (shrinking drops the last first)."""
    if not memories:
        return None
    lines = [f"- [{m.tag}] {m.text} ({m.scope} memory {m.id})" for m in memories]
    return Layer(
        id="memories",
        content="\n".join(lines),
        priority=500,
        min_tokens=48,
        compressor=density,
        placement="context",
        why=f"{len(memories)} memories recalled for the task",
        wrap=quoted("memories recalled for this task"),
    )

"""contextos: a local-first context engine for AI coding agents.

The public API covers the four jobs:

- index and search a repository: ``Workspace`` (``index``, ``search``), ``SearchHit``,
  ``FileHit``, ``IndexSummary``, ``SearchConfig``;
- remember and recall: ``MemoryStore`` (``open``, ``remember``, ``recall``, ``forget``),
  ``Memory``, ``RecallHit``;
- build a window: ``build_context`` (gather and pack a task's window) → ``ContextResult``, and
  the pure packer underneath, ``pack(layers, budget, counter)`` with ``Layer`` → ``Pack``;
- count tokens: ``counter_for_model`` → ``TokenCounter``;

plus ``Settings`` / ``load_settings`` and the ``ContextosError`` tree. Names are imported on
first use (PEP 562), so ``import contextos`` — and every ``contextos.*`` submodule import, the
CLI's included — costs nothing until a name is needed; ``contextos --help`` loads neither numpy
nor tree-sitter.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contextos.code.search import SearchConfig
    from contextos.context.builder import ContextResult, build_context
    from contextos.context.layers import Layer
    from contextos.context.packer import pack
    from contextos.context.report import Pack
    from contextos.errors import (
        ConfigError,
        ContextosError,
        EmbeddingError,
        IndexCancelled,
        ModelError,
        PathOutsideRootError,
        StoreError,
        UnknownIdError,
        UserInputError,
    )
    from contextos.memory.records import Memory, RecallHit
    from contextos.memory.store import MemoryStore
    from contextos.settings import Settings, load_settings
    from contextos.tokens import TokenCounter, counter_for_model
    from contextos.types import Chunk, FileHit, IndexSummary, SearchHit
    from contextos.workspace import Workspace

__all__ = [
    "Chunk",
    "ConfigError",
    "ContextResult",
    "ContextosError",
    "EmbeddingError",
    "FileHit",
    "IndexCancelled",
    "IndexSummary",
    "Layer",
    "Memory",
    "MemoryStore",
    "ModelError",
    "Pack",
    "PathOutsideRootError",
    "RecallHit",
    "SearchConfig",
    "SearchHit",
    "Settings",
    "StoreError",
    "TokenCounter",
    "UnknownIdError",
    "UserInputError",
    "Workspace",
    "build_context",
    "counter_for_model",
    "load_settings",
    "pack",
]

__version__ = "0.1.0"

_HOMES = {
    "SearchConfig": "contextos.code.search",
    "ContextResult": "contextos.context.builder",
    "build_context": "contextos.context.builder",
    "Layer": "contextos.context.layers",
    "pack": "contextos.context.packer",
    "Pack": "contextos.context.report",
    "ConfigError": "contextos.errors",
    "ContextosError": "contextos.errors",
    "EmbeddingError": "contextos.errors",
    "IndexCancelled": "contextos.errors",
    "ModelError": "contextos.errors",
    "PathOutsideRootError": "contextos.errors",
    "StoreError": "contextos.errors",
    "UnknownIdError": "contextos.errors",
    "UserInputError": "contextos.errors",
    "Memory": "contextos.memory.records",
    "RecallHit": "contextos.memory.records",
    "MemoryStore": "contextos.memory.store",
    "TokenCounter": "contextos.tokens",
    "counter_for_model": "contextos.tokens",
    "Settings": "contextos.settings",
    "load_settings": "contextos.settings",
    "Chunk": "contextos.types",
    "FileHit": "contextos.types",
    "IndexSummary": "contextos.types",
    "SearchHit": "contextos.types",
    "Workspace": "contextos.workspace",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'contextos' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

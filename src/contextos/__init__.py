"""contextos: a local-first context engine for AI coding agents.

The public API: ``Workspace`` (index and search a repository), ``Settings`` / ``load_settings``,
the result types and the ``ContextosError`` tree. Names are imported on first use (PEP 562), so
``import contextos`` — and every ``contextos.*`` submodule import, the CLI's included — costs
nothing until a name is needed; ``contextos --help`` does not load numpy or tree-sitter.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contextos.code.search import SearchConfig
    from contextos.errors import (
        ConfigError,
        ContextosError,
        EmbeddingError,
        PathOutsideRootError,
        StoreError,
        UserInputError,
    )
    from contextos.settings import Settings, load_settings
    from contextos.types import Chunk, FileHit, IndexSummary, SearchHit
    from contextos.workspace import Workspace

__all__ = [
    "Chunk",
    "ConfigError",
    "ContextosError",
    "EmbeddingError",
    "FileHit",
    "IndexSummary",
    "PathOutsideRootError",
    "SearchConfig",
    "SearchHit",
    "Settings",
    "StoreError",
    "UserInputError",
    "Workspace",
    "load_settings",
]

__version__ = "0.1.0"

_HOMES = {
    "SearchConfig": "contextos.code.search",
    "ConfigError": "contextos.errors",
    "ContextosError": "contextos.errors",
    "EmbeddingError": "contextos.errors",
    "PathOutsideRootError": "contextos.errors",
    "StoreError": "contextos.errors",
    "UserInputError": "contextos.errors",
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

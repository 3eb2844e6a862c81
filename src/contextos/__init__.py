"""contextos: a local-first context engine for AI coding agents.

The public API: ``Workspace`` (index and search a repository), ``Settings`` / ``load_settings``,
the result types and the ``ContextosError`` tree.
"""

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

"""The one exception tree of contextos.

Every error that leaves the library is a ``ContextosError``; sqlite3, SDK, HTTP and OS errors are
wrapped at the boundary where they happen. Messages say what happened and what to do.

    ContextosError
    ├── ConfigError            bad settings or environment (exit code 2 in the CLI)
    ├── UserInputError         bad input from a user or a model: paths, queries, ids (exit 2)
    │   ├── PathOutsideRootError   a path that escapes the workspace root
    │   └── UnknownIdError         no record with that id (a memory, a session)
    ├── StoreError             the SQLite store failed or is corrupt
    ├── IndexCancelled         an index run was stopped on request (what it committed is whole)
    ├── EmbeddingError         an embedder could not be loaded or failed to embed
    │   └── EmbeddingServerError   an embeddings HTTP server gave a bad or no answer
    └── ModelError             a chat model call failed (network, auth, rate limit) after retries
        └── ModelOutputError       the reply did not match the schema after re-asks (keeps raw text)
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ContextosError",
    "EmbeddingError",
    "EmbeddingServerError",
    "IndexCancelled",
    "ModelError",
    "ModelOutputError",
    "PathOutsideRootError",
    "StoreError",
    "UnknownIdError",
    "UserInputError",
]


class ContextosError(Exception):
    """Base class of every error contextos raises on purpose."""

    exit_code: int = 1


class ConfigError(ContextosError):
    """Settings or environment are invalid; the message names the setting to fix."""

    exit_code = 2


class UserInputError(ContextosError):
    """Input from a user or a model is invalid (a path, a query, an id)."""

    exit_code = 2


class PathOutsideRootError(UserInputError):
    """A path resolves outside the workspace root (``..``, absolute, or via a symlink)."""


class UnknownIdError(UserInputError):
    """No record has the given id; ``kind`` and ``id`` let each interface say where ids are
    listed (the CLI names a command, the MCP server a resource)."""

    def __init__(self, kind: str, id: str, hint: str) -> None:
        super().__init__(f"unknown {kind} id {id!r}: {hint}")
        self.kind = kind
        self.id = id


class StoreError(ContextosError):
    """The SQLite store failed; wraps ``sqlite3.Error``."""


class IndexCancelled(ContextosError):
    """An index run was stopped on request between batches; every file it committed is whole,
    and the next run picks up the rest."""


class EmbeddingError(ContextosError):
    """An embedder could not be loaded or could not embed."""


class EmbeddingServerError(EmbeddingError):
    """An OpenAI-compatible embeddings server failed after retries, or answered malformed data."""


class ModelError(ContextosError):
    """A chat model call failed after retries (network, authentication, rate limit)."""


class ModelOutputError(ModelError):
    """The model's reply did not match the requested schema after the allowed re-asks."""

    def __init__(self, message: str, raw_text: str) -> None:
        super().__init__(message)
        self.raw_text = raw_text

"""Where contextos keeps its state. This module is the only owner of the home directory.

``$CONTEXTOS_HOME`` (default ``~/.contextos``) holds one SQLite database per workspace under
``workspaces/``, the user's memories in ``memory.db``, agent sessions in ``sessions.db``, cached
models under ``models/``, shared caches (the embedding cache) under ``cache/``, the repositories
the user trusts in ``trusted.json`` and the hashed bearer tokens of the shared MCP endpoint in
``tokens.json``. Every path into it is built here. Nothing is created at import; callers ask for
a path and its directory is created then.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from contextos.errors import ConfigError

__all__ = [
    "cache_dir",
    "contextos_home",
    "memory_db_path",
    "models_dir",
    "runs_dir",
    "sessions_db_path",
    "tokens_path",
    "trust_store_path",
    "user_config_path",
    "workspace_db_path",
]


def contextos_home() -> Path:
    """Return the contextos home directory (not created)."""
    raw = os.environ.get("CONTEXTOS_HOME")
    return Path(raw).expanduser() if raw else Path.home() / ".contextos"


def _ensure(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"CONTEXTOS_HOME is not usable: cannot create {path} ({exc.strerror or exc}); "
            "point CONTEXTOS_HOME at a writable directory"
        ) from exc
    return path


def models_dir() -> Path:
    """Directory of locally built or cached embedding models (created on demand)."""
    return _ensure(contextos_home() / "models")


def cache_dir() -> Path:
    """Directory of shared caches, e.g. the embedding cache (created on demand)."""
    return _ensure(contextos_home() / "cache")


def workspace_db_path(root: Path) -> Path:
    """The database file of the workspace rooted at ``root``: readable name + hash of the path."""
    resolved = str(root.resolve())
    digest = hashlib.sha256(resolved.encode()).hexdigest()[:12]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", root.resolve().name or "root")[:40]
    return _ensure(contextos_home() / "workspaces") / f"{name}-{digest}.db"


def memory_db_path() -> Path:
    """The user's memory database (its directory is created on demand)."""
    return _ensure(contextos_home()) / "memory.db"


def sessions_db_path() -> Path:
    """The database of agent sessions and their events (its directory is created on demand)."""
    return _ensure(contextos_home()) / "sessions.db"


def runs_dir() -> Path:
    """Where agent runs keep their trajectories, one directory per run (created on demand)."""
    return _ensure(contextos_home() / "runs")


def user_config_path() -> Path:
    """The user's settings file (``config.toml``; read if present, never created here)."""
    return contextos_home() / "config.toml"


def trust_store_path() -> Path:
    """The list of repositories the user trusts (``trusted.json``; never created here)."""
    return contextos_home() / "trusted.json"


def tokens_path() -> Path:
    """The hashed bearer tokens of the shared MCP endpoint (``tokens.json``; its directory is
    created on demand, the file only when a token is created)."""
    return _ensure(contextos_home()) / "tokens.json"

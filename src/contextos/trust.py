"""Which repositories the user trusts to configure everything, like git's ``safe.directory``.

A cloned repository's ``.contextos.toml`` may only tune indexing (``settings.REPO_SAFE``) until
the user trusts it with ``contextos trust PATH``; then it may set endpoints, keys and models too.
The trust store is ``home.trust_store_path()``, a JSON object ``{"trusted": [paths]}`` of
resolved absolute paths, rewritten atomically (a temporary file, then a rename).

Trust is an exact match on the resolved path: trusting ``~/src`` trusts no repository under it,
and a symlink is trusted through its target. Left out: trusting by pattern or parent directory,
and locking between two ``trust`` commands run at the same instant (the later write wins).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from contextos.errors import ConfigError, UserInputError
from contextos.home import trust_store_path
from contextos.paths import workspace_root

__all__ = ["is_trusted", "trust", "trusted_roots", "untrust"]


def trusted_roots() -> list[Path]:
    """The trusted repositories, sorted; empty when nothing was ever trusted."""
    path = trust_store_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read trust store {path}: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"trust store {path} is not valid JSON ({exc}): fix or delete it"
        ) from exc
    roots = data.get("trusted") if isinstance(data, dict) else None
    if not isinstance(roots, list) or not all(isinstance(r, str) for r in roots):
        raise ConfigError(
            f'trust store {path} must be {{"trusted": ["/abs/path", ...]}}: fix or delete it'
        )
    return sorted(Path(r) for r in roots)


def is_trusted(root: Path) -> bool:
    """True when the resolved ``root`` itself is in the trust store (not a parent of it)."""
    return root.resolve() in trusted_roots()


def trust(path: Path | str) -> Path:
    """Trust the repository at ``path`` (an existing directory); return its resolved path."""
    root = workspace_root(path)
    roots = trusted_roots()
    if root not in roots:
        _write([*roots, root])
    return root


def untrust(path: Path | str) -> Path:
    """Stop trusting ``path`` (which may no longer exist); return the resolved path removed."""
    root = Path(path).expanduser().resolve()
    roots = trusted_roots()
    if root not in roots:
        raise UserInputError(f"{root} is not trusted: `contextos trust --list` shows what is")
    _write([r for r in roots if r != root])
    return root


def _write(roots: list[Path]) -> None:
    path = trust_store_path()
    text = json.dumps({"trusted": sorted(str(r) for r in roots)}, indent=2) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".trusted-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigError(f"cannot write trust store {path}: {exc}") from exc

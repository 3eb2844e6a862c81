"""Bearer tokens for the shared MCP endpoint: create, list, revoke, verify.

A token is ``ctx_`` + 32 random bytes (urlsafe base64), shown once when created. The store
(``home.tokens_path()``, a JSON file written atomically with mode 0600) keeps only its SHA-256
(enough for a 256-bit random secret; no salt or slow hash needed), with an id, the user it names,
its scope (``read``: read-only tools and resources; ``write``: every tool) and when it was made.
``TokenStore`` is the server's view: it re-reads the file when it changes, so a token created or
revoked while the server runs counts on the next request, and compares hashes in constant time.

Leaves out: expiry, per-workspace tokens and concurrent writers of the file (two ``token``
commands at the same instant: the last write wins).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from contextos import home
from contextos.errors import ConfigError, UnknownIdError, UserInputError

__all__ = [
    "PREFIX",
    "SCOPES",
    "TokenInfo",
    "TokenStore",
    "create_token",
    "list_tokens",
    "revoke_token",
]

PREFIX = "ctx_"
SCOPES = ("read", "write")
Scope = Literal["read", "write"]
_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
_LISTED_BY = "`contextos token list` shows the ids"


@dataclass(frozen=True)
class TokenInfo:
    """One token as stored: everything but the secret itself."""

    id: str
    user: str
    scope: Scope
    created_at: str
    sha256: str

    def public(self) -> dict[str, str]:
        """What ``token list`` and logs may show: no hash, no secret."""
        return {
            "id": self.id,
            "user": self.user,
            "scope": self.scope,
            "created_at": self.created_at,
        }


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _load(path: Path) -> list[TokenInfo]:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ConfigError(f"cannot read the token store {path}: {exc.strerror or exc}") from exc
    try:
        items: list[dict[str, Any]] = json.loads(raw)["tokens"]
        return [TokenInfo(**item) for item in items]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"the token store {path} is corrupt: restore it or delete it and create new tokens"
        ) from exc


def _save(path: Path, tokens: list[TokenInfo]) -> None:
    payload = json.dumps({"version": 1, "tokens": [asdict(t) for t in tokens]}, indent=2)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tokens-", suffix=".json")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"cannot write the token store {path}: {exc.strerror or exc}") from exc


def create_token(user: str, scope: str = "write") -> tuple[TokenInfo, str]:
    """Store a new token for ``user`` and return it with the secret (which is not kept)."""
    if not _USER.match(user):
        raise UserInputError(
            f"invalid user {user!r}: use 1-64 letters, digits, '.', '_', '@' or '-'"
        )
    if scope not in SCOPES:
        raise UserInputError(f"invalid scope {scope!r}: use read or write")
    path = home.tokens_path()
    tokens = _load(path)
    secret = PREFIX + secrets.token_urlsafe(32)
    info = TokenInfo(
        id=secrets.token_hex(4),
        user=user,
        scope="read" if scope == "read" else "write",
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        sha256=_digest(secret),
    )
    _save(path, [*tokens, info])
    return info, secret


def list_tokens() -> list[TokenInfo]:
    """Every live token, oldest first."""
    return _load(home.tokens_path())


def revoke_token(token_id: str) -> TokenInfo:
    """Delete the token ``token_id``; a server that is running refuses it from its next request."""
    path = home.tokens_path()
    tokens = _load(path)
    kept = [t for t in tokens if t.id != token_id]
    if len(kept) == len(tokens):
        raise UnknownIdError("token", token_id, _LISTED_BY)
    _save(path, kept)
    return next(t for t in tokens if t.id == token_id)


class TokenStore:
    """The tokens as a running server sees them, re-read whenever the file changes."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or home.tokens_path()
        self._stamp: tuple[int, int] | None = None
        self._tokens: list[TokenInfo] = []

    def tokens(self) -> list[TokenInfo]:
        """The current tokens (a corrupt or unreadable file raises ``ConfigError``)."""
        try:
            st = self.path.stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            self._tokens = _load(self.path) if stamp else []
            self._stamp = stamp
        return self._tokens

    def verify(self, presented: str) -> TokenInfo | None:
        """The token whose hash matches ``presented``, else None. Every stored hash is compared
        (constant time each), so the time taken does not tell which one nearly matched."""
        digest = _digest(presented)
        found = None
        for token in self.tokens():
            if hmac.compare_digest(token.sha256, digest):
                found = token
        return found

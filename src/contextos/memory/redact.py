"""Keep secrets out of memories.

Memories are exported, synced and pasted into prompts, so credentials must never be stored.
``find_secrets(text)`` names the kinds of secret a text appears to contain (provider API keys,
access tokens, private key blocks, JWTs, ``password=...`` assignments); ``redact(text)`` replaces
each with ``[REDACTED:<kind>]``. Explicit ``remember`` refuses such text (the user can fix it);
bulk ingest and extraction redact (there is nobody to ask). Left out: entropy-based detection of
unlabelled random strings, which flags too many hashes and ids.
"""

from __future__ import annotations

import re

from contextos.errors import UserInputError

__all__ = ["find_secrets", "redact", "refuse_secrets"]

_NAMED = (
    r"(?i)\b(?:api[_-]?key|secret(?:[_-]?key)?|access[_-]?token|auth[_-]?token|token|"
    r"password|passwd|pwd)\b"
)
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "private-key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?"
            r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|$)"
        ),
    ),
    ("anthropic-key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{20,}")),
    ("openai-key", re.compile(r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}")),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})")),
    ("gitlab-token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("stripe-key", re.compile(r"\b[rs]k_(?:live|test)_[0-9A-Za-z]{16,}")),
    ("huggingface-token", re.compile(r"\bhf_[A-Za-z0-9]{30,}")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("bearer-token", re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/-]{20,}=*")),
    ("assigned-secret", re.compile(_NAMED + r"\s*[:=]\s*['\"]?(?!\[REDACTED)[^\s'\"]{8,}")),
    (
        "stated-secret",
        re.compile(_NAMED + r"\s+is\s+['\"]?(?!\[REDACTED)(?=[^\s'\"]*\d)[^\s'\"]{8,}"),
    ),
    ("url-credentials", re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@]+:[^\s@/]{6,}@")),
)


def find_secrets(text: str) -> list[str]:
    """The kinds of secret found in ``text``, in pattern order, without duplicates."""
    return [kind for kind, pattern in _PATTERNS if pattern.search(text)]


def redact(text: str) -> str:
    """``text`` with every secret replaced by ``[REDACTED:<kind>]``."""
    for kind, pattern in _PATTERNS:
        text = pattern.sub(f"[REDACTED:{kind}]", text)
    return text


def refuse_secrets(text: str) -> None:
    """Raise ``UserInputError`` if ``text`` contains a secret (explicit, user-typed memories)."""
    kinds = find_secrets(text)
    if kinds:
        raise UserInputError(
            f"not stored: the text looks like it contains a secret ({', '.join(kinds)}); "
            "memories must never hold credentials, remove it and try again"
        )

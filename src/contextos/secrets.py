"""What counts as a secret: the one definition every part of contextos uses.

Four questions, four functions, so the indexer never refuses a file that the MCP server then
serves (it did), and a memory never stores what a file read would have refused:

- ``is_secret_file_name(name)``: a file whose *name* marks it as secret: ``.env*``, SSH keys
  (``id_rsa*``, ``id_ed25519*``... including ``.pub``), key and certificate stores (``*.pem``,
  ``*.key``, ``*.crt``, ``*.p12``, keystores...), ``credentials(.json)``,
  ``secrets.(json|yaml|toml)``, ``.netrc`` / ``.npmrc`` / ``.pypirc`` / ``.pgpass`` /
  ``.git-credentials``, Terraform state. Used by the walker (the indexer, rules discovery, the
  agent's ``grep``) and by ``read_file``.
- ``holds_private_key(data)``: a file whose *bytes* hold a private key block (PEM, OpenSSH,
  PGP). Such a file is refused whole, whatever its name, by the same callers.
- ``find_secrets(text)`` / ``redact(text)`` / ``refuse_secrets(text)``: secrets inside *text*
  that is about to become a memory (memories are exported, synced and pasted into prompts):
  provider API keys, access tokens, private key blocks, JWTs, bearer tokens, credentials in
  URLs, ``password=...`` assignments. Explicit ``remember`` refuses (the user can fix it); bulk
  ingest and model output are redacted to ``[REDACTED:<kind>]`` (nobody can be asked).
- ``is_secret_env(name, value)``: an environment variable whose value must never be written to
  a config file (``mcp install``): a name with a word such as KEY, TOKEN or PASSWORD, or a value
  that holds a secret by the rules above.

Left out, deliberately: the targets of symlinks (a link named ``notes.txt`` to ``~/.ssh/id_rsa``
is judged by the walker's and ``confine``'s root checks, not here), entropy-based detection of
unlabelled random strings (it flags too many hashes and ids), and redacting values inside files
that are otherwise indexed or read (a ``config.py`` holding an API key is still served whole).
"""

from __future__ import annotations

import re

from contextos.errors import UserInputError

__all__ = [
    "find_secrets",
    "holds_private_key",
    "is_secret_env",
    "is_secret_file_name",
    "redact",
    "refuse_secrets",
]

_SECRET_FILE_NAME = re.compile(
    r"^(?:\.env(?:\..*)?"
    r"|.*\.(?:pem|key|p12|pfx|jks|keystore|crt|cer|der|asc|gpg|ovpn|kdbx)"
    r"|id_(?:rsa|dsa|ecdsa|ed25519)(?:_sk)?(?:\.pub)?"
    r"|\.netrc|\.npmrc|\.pypirc|\.pgpass|\.git-credentials|\.htpasswd"
    r"|credentials(?:\.json)?|secrets?\.(?:json|ya?ml|toml)"
    r"|.*\.tfstate(?:\.backup)?)$",
    re.IGNORECASE,
)
_PRIVATE_KEY_HEADER = r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
_PRIVATE_KEY_FOOTER = r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
_PRIVATE_KEY_BYTES = re.compile(_PRIVATE_KEY_HEADER.encode())

_NAMED = (
    r"(?i)\b(?:api[_-]?key|secret(?:[_-]?key)?|access[_-]?token|auth[_-]?token|token|"
    r"password|passwd|pwd)\b"
)
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private-key", re.compile(_PRIVATE_KEY_HEADER + rf"[\s\S]*?(?:{_PRIVATE_KEY_FOOTER}|$)")),
    ("anthropic-key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{20,}")),
    ("openai-key", re.compile(r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}")),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})")),
    ("gitlab-token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("stripe-key", re.compile(r"\b[rs]k_(?:live|test)_[0-9A-Za-z]{16,}")),
    ("huggingface-token", re.compile(r"\bhf_[A-Za-z0-9]{30,}")),
    ("npm-token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("pypi-token", re.compile(r"\bpypi-AgE[A-Za-z0-9_-]{50,}")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("bearer-token", re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/-]{20,}=*")),
    ("assigned-secret", re.compile(_NAMED + r"\s*[:=]\s*['\"]?(?!\[REDACTED)[^\s'\"]{8,}")),
    (
        "stated-secret",
        re.compile(_NAMED + r"\s+is\s+['\"]?(?!\[REDACTED)(?=[^\s'\"]*\d)[^\s'\"]{8,}"),
    ),
    ("url-credentials", re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@]+:[^\s@/]{6,}@")),
)
_SECRET_ENV_WORDS = frozenset(
    {
        "KEY",
        "APIKEY",
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "PASS",
        "PWD",
        "CREDENTIAL",
        "CREDENTIALS",
    }
)


def is_secret_file_name(name: str) -> bool:
    """True when a file's base name marks it as secret (see the module doc for the list)."""
    return bool(_SECRET_FILE_NAME.match(name))


def holds_private_key(data: bytes) -> bool:
    """True when ``data`` (a whole file, or any part of one) holds a private key header."""
    return bool(_PRIVATE_KEY_BYTES.search(data))


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


def is_secret_env(name: str, value: str = "") -> bool:
    """True when the variable ``name=value`` must not be written to a file: a name with a word
    like KEY, TOKEN or PASSWORD (``_``-separated), or a value that holds a secret."""
    return bool(_SECRET_ENV_WORDS & set(name.upper().split("_"))) or bool(find_secrets(value))

"""What counts as a secret: the one definition every part of contextos uses.

Files are judged by path and by content, text by content, so the indexer never refuses a file
that the MCP server then serves (it did), and a memory never stores what a file read refuses:

- ``is_secret_path(rel)``: a file whose *path* marks it as secret. By name
  (``is_secret_file_name``): ``.env``, ``.env.*``, ``*.env``, ``.envrc``; SSH keys (``id_rsa*``...
  including ``.pub``); key and certificate stores (``*.pem``, ``*.key``, ``*.p12``, keystores...);
  ``credentials(.json)``,
  ``secrets.(json|yaml|toml)``; ``.netrc``, ``.npmrc``, ``.pypirc``, ``.pgpass``,
  ``.git-credentials``, ``.htpasswd``; Terraform state and ``*.tfvars``. By place: anything under
  ``.ssh/``, ``.gnupg/`` or ``.aws/``, ``.docker/config.json``, ``.kube/config``, ``gh``'s
  ``hosts.yml``. Callers judge a symlink by its own path *and* its target's.
- ``is_secret_content(data, rel)``: a file whose *bytes* make it secret whatever its name: a
  private key block (PEM, OpenSSH, PGP); a dotenv-shaped file (only ``KEY=value`` lines) holding
  a secret, which is what a hard link to ``.env`` looks like; a ``.git/config`` whose remote URL
  carries credentials. Such files are refused whole.
- ``find_secrets(text)`` / ``redact(text)`` / ``refuse_secrets(text)``: secret *values* inside
  text: provider keys and tokens of known shapes (OpenAI, Anthropic, AWS key ids and secret keys,
  GitHub, GitLab, Slack tokens and webhooks, npm, PyPI, Stripe, Google, Hugging Face, Azure
  ``AccountKey=``), private key blocks, JWTs, bearer and Basic auth headers, credentials in URLs,
  literal values assigned to names such as ``password``, ``secret``, ``token``, ``api_key`` that
  look like secrets (not references, placeholders or plain words), and "the password is ...".
  ``redact`` replaces each value with ``[REDACTED:<kind>]`` inside its line, so line numbers stay
  right: the indexer stores and ``read_file`` serves redacted text, and the file stays
  searchable by its other words. Explicit ``remember`` refuses (the user can fix it); bulk
  ingest and model output are redacted (nobody can be asked).
- ``is_secret_env(name, value)``: an environment variable whose value must never be written to
  a config file (``mcp install``): a name with a word such as KEY, TOKEN or PASSWORD, or a value
  that holds a secret by the rules above.

Left out, deliberately: unlabelled random strings (entropy alone flags hashes and ids; entropy
only decides for values assigned to secret-looking names), quoted values with spaces, and
values split over lines. ``benchmarks.micro.redaction_fp`` measures how many ordinary lines the
rules redact.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from contextos.errors import UserInputError

__all__ = [
    "find_memory_secrets",
    "find_secrets",
    "holds_private_key",
    "is_secret_content",
    "is_secret_env",
    "is_secret_file_name",
    "is_secret_path",
    "redact",
    "redact_memory",
    "refuse_secrets",
]

_SECRET_FILE_NAME = re.compile(
    r"^(?:\.env(?:\..*)?|.*\.env|\.envrc"
    r"|.*\.(?:pem|key|p12|pfx|jks|keystore|crt|cer|der|asc|gpg|ovpn|kdbx)"
    r"|id_(?:rsa|dsa|ecdsa|ed25519)(?:_sk)?(?:\.pub)?"
    r"|\.netrc|\.npmrc|\.pypirc|\.pgpass|\.git-credentials|\.htpasswd"
    r"|credentials(?:\.json)?|secrets?\.(?:json|ya?ml|toml)"
    r"|.*\.tfstate(?:\.backup)?|.*\.tfvars(?:\.json)?)$",
    re.IGNORECASE,
)
_SECRET_PLACE = re.compile(
    r"(?:^|/)(?:\.ssh|\.gnupg|\.aws)/|(?:^|/)(?:\.docker/config\.json|\.kube/config"
    r"|\.config/gh/hosts\.ya?ml)$",
    re.IGNORECASE,
)
_PRIVATE_KEY_HEADER = r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
_PRIVATE_KEY_FOOTER = r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
_PRIVATE_KEY_BYTES = re.compile(_PRIVATE_KEY_HEADER.encode())
_DOTENV_LINE = re.compile(r"(?:export\s+)?[A-Za-z_][A-Za-z0-9_.]*=\S*")
_GIT_CONFIG = re.compile(r"(?:^|/)\.git/config$")
_DOTENV_MAX = 64 * 1024

_WORD = (
    r"(?:api[_-]?key|apikey|secret|token|passw(?:or)?d|passphrase|pwd|access[_-]?key|auth[_-]?key)"
)
_PLACEHOLDERS = (
    "example", "changeme", "change_me", "change-me", "your", "xxxx", "placeholder", "dummy",
    "redacted", "sample", "****", "...", "<", ">", "{", "}", "%(", "$(", "://", "environ", "getenv",
)  # fmt: skip
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_QUOTED = r"""(?P<q>['"`])(?P<v>[^'"`\s]{6,200})(?P=q)"""
_BARE = r"""(?P<b>[\w+/=.~!@#$%^&*-]{6,200})(?=[\s'"`,;)\]}]|$)"""

Check = Callable[["re.Match[str]"], bool]


@dataclass(frozen=True, slots=True)
class _Rule:
    """One kind of secret value: where it is (``pattern``; the ``v`` or ``b`` group when the
    rule has one, else the whole match), a ``check`` on the match, and ``triggers``, lower-case
    strings one of which a line must hold for the pattern to be tried on it (a cheap filter)."""

    kind: str
    pattern: re.Pattern[str]
    check: Check | None
    triggers: tuple[str, ...]


def _value_span(m: re.Match[str]) -> tuple[int, int]:
    """Where the secret value is: the ``v`` or ``b`` group when the rule has one, else all."""
    for group in ("v", "b"):
        if group in m.re.groupindex and m.group(group) is not None:
            return m.span(group)
    return m.span()


def _value(m: re.Match[str]) -> str:
    start, end = _value_span(m)
    return m.string[start:end]


def _entropy(s: str) -> float:
    return -sum(n / len(s) * math.log2(n / len(s)) for n in Counter(s).values())


def _real(v: str) -> bool:
    low = v.lower()
    return not (any(p in low for p in _PLACEHOLDERS) or v.startswith("$") or len(set(v)) < 4)


def _assigned(m: re.Match[str]) -> bool:
    """A literal that looks like a secret: passwords need a digit, symbol or capital; other
    names a letter, a digit and 3 bits of entropy per character in 12+ characters. Bare (unquoted)
    names of variables count only in ``NAME=value`` form with a digit (a dotenv line)."""
    v = _value(m)
    if not _real(v):
        return False
    if m.group("b") and _PLAIN.fullmatch(v) and (m.group("sp") or not re.search(r"\d", v)):
        return False
    if re.match(r"(?i)pass|pwd", m.group("name")):
        return bool(re.search(r"[^a-z_-]", v))
    has = re.search(r"\d", v) and re.search(r"[A-Za-z]", v)
    return bool(has) and len(v) >= 12 and _entropy(v) >= 3.0


def _stated(m: re.Match[str]) -> bool:
    v = m.group("v").rstrip(".,;:!?)")
    return _real(v) and len(v) >= 6 and bool(re.search(r"\d|[^\w-]", v))


def _basic(m: re.Match[str]) -> bool:
    try:
        decoded = base64.b64decode(m.group("v"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return ":" in decoded and decoded.isprintable()


def _url(m: re.Match[str]) -> bool:
    return (
        m["user"] != "anonymous"
        and _real(m["v"])
        and m.group("v").lower() not in {"password", "passwd", "secret"}
    )


_WORDS = "api_key|api-key|apikey|secret|token|passw|passphrase|pwd|access_key|access-key|"
_WORDS += "accesskey|auth_key|auth-key|authkey"
_RULES: tuple[_Rule, ...] = tuple(
    _Rule(kind, re.compile(pattern), check, tuple(triggers.split("|")))
    for kind, triggers, pattern, check in (
        ("anthropic-key", "sk-ant-", r"\bsk-ant-[A-Za-z0-9_-]{20,}", None),
        ("openai-key", "sk-", r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}", None),
        ("aws-access-key", "akia|asia", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", None),
        (
            "aws-secret-key",
            "aws",
            r"(?i)aws\w*secret\w*['\"]?\s*(?:=|:|\bis\b)\s*['\"]?"
            r"(?P<v>(?-i:[A-Za-z0-9/+]{40}))(?![A-Za-z0-9/+])",
            None,
        ),
        (
            "github-token",
            "ghp_|gho_|ghu_|ghs_|ghr_|github_pat_",
            r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})",
            None,
        ),
        ("gitlab-token", "glpat-", r"\bglpat-[A-Za-z0-9_-]{20,}", None),
        (
            "slack-webhook",
            "hooks.slack",
            r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{20,}",
            None,
        ),
        (
            "slack-token",
            "xox|xapp-",
            r"\bxox[abposre]-[A-Za-z0-9-]{10,}|\bxapp-\d-[A-Za-z0-9-]{10,}",
            None,
        ),
        ("google-api-key", "aiza", r"\bAIza[0-9A-Za-z_-]{35}", None),
        (
            "stripe-key",
            "_live_|_test_|whsec_",
            r"\b(?:[rs]k_(?:live|test)|whsec)_[0-9A-Za-z]{16,}",
            None,
        ),
        ("huggingface-token", "hf_", r"\bhf_[A-Za-z0-9]{30,}", None),
        ("npm-token", "npm_", r"\bnpm_[A-Za-z0-9]{36}\b", None),
        ("pypi-token", "pypi-", r"\bpypi-AgE[A-Za-z0-9_-]{50,}", None),
        (
            "azure-key",
            "accountkey|sharedaccesskey",
            r"(?i)\b(?:Account|SharedAccess)Key\s*=\s*(?P<v>[A-Za-z0-9+/]{20,}=*)",
            None,
        ),
        ("jwt", "eyj", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", None),
        ("bearer-token", "bearer", r"(?i)\bbearer\s+(?P<v>[A-Za-z0-9._~+/-]{20,}=*)", None),
        (
            "basic-auth",
            "basic",
            r"\b[Bb]asic\s+(?P<v>[A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])",
            _basic,
        ),
        (
            "url-credentials",
            "://",
            r"\b[a-z][a-z0-9+.-]*://(?P<user>[^\s:/@]+):(?P<v>[^\s@/]{6,})@",
            _url,
        ),
        (
            "assigned-secret",
            _WORDS,
            rf"(?im)(?P<name>{_WORD})\w*['\"]?(?P<sp>\s*)(?:=|:|:=|=>)\s*(?:{_QUOTED}|{_BARE})",
            _assigned,
        ),
        (
            "stated-secret",
            _WORDS + "|api key",
            rf"(?i)\b(?:{_WORD}|api key)\s+(?:is|was)\s+['\"]?(?P<v>[^\s'\"]{{6,}})",
            _stated,
        ),
    )
)
_TRIGGERS = tuple(dict.fromkeys(t for rule in _RULES for t in rule.triggers))
"""Every rule matches one of these in the lower-cased line: lines without any are not judged."""
_KEY_BLOCK = re.compile(_PRIVATE_KEY_HEADER + rf"[\s\S]*?(?:{_PRIVATE_KEY_FOOTER}|\Z)")


def _lines(text: str) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each line of ``text`` that holds a trigger, in order: a few fast
    substring searches over the whole text instead of every rule over every line."""
    low = text.lower()
    if len(low) != len(text):  # a case mapping changed lengths: judge every line
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    starts: set[int] = set()
    for trigger in _TRIGGERS:
        at = low.find(trigger)
        while at >= 0:
            starts.add(text.rfind("\n", 0, at) + 1)
            end = text.find("\n", at)
            at = low.find(trigger, end) if end >= 0 else -1
    for start in sorted(starts):
        end = text.find("\n", start)
        yield start, len(text) if end < 0 else end


def _line_matches(line: str) -> Iterator[tuple[_Rule, re.Match[str]]]:
    low = line.lower()
    for rule in _RULES:
        if any(t in low for t in rule.triggers):
            for m in rule.pattern.finditer(line):
                if "[REDACTED" not in _value(m) and (rule.check is None or rule.check(m)):
                    yield rule, m


def _matches(text: str) -> Iterator[str]:
    """The kind of each secret in ``text``, private key blocks first."""
    yield from ("private-key" for _ in _KEY_BLOCK.finditer(text))
    for start, end in _lines(text):
        yield from (rule.kind for rule, _ in _line_matches(text[start:end]))


def is_secret_file_name(name: str) -> bool:
    """True when a file's base name marks it as secret (see the module doc for the list)."""
    return bool(_SECRET_FILE_NAME.match(name))


def is_secret_path(rel: str) -> bool:
    """True when a posix path (relative to a workspace root) marks the file as secret: its
    name, or a place such as ``.ssh/`` or ``.docker/config.json``."""
    return is_secret_file_name(rel.rpartition("/")[2]) or bool(_SECRET_PLACE.search(rel))


def holds_private_key(data: bytes) -> bool:
    """True when ``data`` (a whole file, or any part of one) holds a private key header."""
    return bool(_PRIVATE_KEY_BYTES.search(data))


def is_secret_content(data: bytes, rel: str = "") -> bool:
    """True when a whole file's bytes make it secret (see the module doc); ``rel`` is its path."""
    if holds_private_key(data):
        return True
    if len(data) > _DOTENV_MAX:
        return False
    text = data.decode("utf-8", errors="replace")
    if _GIT_CONFIG.search(rel):
        return "url-credentials" in find_secrets(text)
    lines = (s for s in (x.strip() for x in text.splitlines()) if s and not s.startswith("#"))
    first = next(lines, None)
    return (
        first is not None
        and all(_DOTENV_LINE.fullmatch(line) for line in (first, *lines))
        and bool(find_secrets(text))
    )


def find_secrets(text: str) -> list[str]:
    """The kinds of secret found in ``text``, without duplicates."""
    return list(dict.fromkeys(_matches(text)))


def redact(text: str) -> str:
    """``text`` with every secret value replaced by ``[REDACTED:<kind>]`` inside its line; a
    private key block becomes one such marker per line, so the text keeps its lines."""
    text = _KEY_BLOCK.sub(
        lambda m: "\n".join(["[REDACTED:private-key]"] * (m[0].count("\n") + 1)), text
    )
    out: list[str] = []
    done = 0
    for start, end in _lines(text):
        line = text[start:end]
        redacted = _redact_line(line)
        if redacted != line:
            out += [text[done:start], redacted]
            done = end
    return "".join([*out, text[done:]]) if out else text


def _redact_line(line: str) -> str:
    """Each rule in turn over the line, so a value replaced by one is not judged again."""
    for rule in _RULES:
        if not any(t in line.lower() for t in rule.triggers):
            continue

        def replace(m: re.Match[str], rule: _Rule = rule) -> str:
            if "[REDACTED" in _value(m) or (rule.check is not None and not rule.check(m)):
                return m[0]
            start, end = _value_span(m)
            return m.string[m.start() : start] + f"[REDACTED:{rule.kind}]" + m.string[end : m.end()]

        line = rule.pattern.sub(replace, line)
    return line


_IN_PROSE: tuple[tuple[str, re.Pattern[str]], ...] = (
    # a bare AWS-style secret: 40 characters mixing upper and lower case and digits (a git SHA
    # is lower-case hex, so it never matches)
    (
        "aws-secret-key",
        re.compile(
            r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[a-z])"
            r"(?=[A-Za-z0-9/+]*[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
        ),
    ),
    # "the password is hunter" without a digit; "the password is stored in vault" is not one
    (
        "stated-password",
        re.compile(
            r"(?i)\bpass(?:word|phrase)?\s+(?:is|was)\s+['\"]?(?!(?:stored|kept|saved|set|"
            r"managed|rotated|changed|reset|in|on|at|the|a|an|not|required|needed|empty|hidden|"
            r"encrypted|hashed|same|different|from|under|available|provided|given|sent|shared|"
            r"never|always|only|also|too|still|now|being|to|for|our|my|your|their|its|that|"
            r"this|wrong|correct|invalid|expired|weak|strong|long|short)\b)(?!\[REDACTED)(?P<v>[^\s'\".,;]{4,})"
        ),
    ),
)
"""Memory-only rules: in prose a person or model wrote, these are secrets; in source files they
would redact too many ordinary lines, so files are judged by ``find_secrets`` alone."""


def find_memory_secrets(text: str) -> list[str]:
    """``find_secrets`` plus the rules that hold only for memory text (``_IN_PROSE``)."""
    kinds = find_secrets(text)
    kinds += [kind for kind, pattern in _IN_PROSE if kind not in kinds and pattern.search(text)]
    return kinds


def redact_memory(text: str) -> str:
    """``redact`` plus the memory-only rules: what bulk ingest and model output store."""
    text = redact(text)
    for kind, pattern in _IN_PROSE:
        text = pattern.sub(partial(_marked, kind), text)
    return text


def _marked(kind: str, m: re.Match[str]) -> str:
    """The match with its value (group ``v``, else all of it) replaced by the kind's marker."""
    start = m.start("v") if "v" in m.re.groupindex else m.start()
    return m[0][: start - m.start()] + f"[REDACTED:{kind}]"


def refuse_secrets(text: str) -> None:
    """Raise ``UserInputError`` if ``text`` contains a secret (explicit, user-typed memories)."""
    kinds = find_memory_secrets(text)
    if kinds:
        raise UserInputError(
            f"not stored: the text looks like it contains a secret ({', '.join(kinds)}); "
            "memories must never hold credentials, remove it and try again"
        )


_SECRET_ENV_WORDS = frozenset(
    {"KEY", "APIKEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASS", "PWD", "CREDENTIAL",
     "CREDENTIALS"}
)  # fmt: skip


def is_secret_env(name: str, value: str = "") -> bool:
    """True when the variable ``name=value`` must not be written to a file: a name with a word
    like KEY, TOKEN or PASSWORD (``_``-separated), or a value that holds a secret."""
    return bool(_SECRET_ENV_WORDS & set(name.upper().split("_"))) or bool(find_secrets(value))

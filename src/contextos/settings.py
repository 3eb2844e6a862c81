"""Typed, layered settings.

Layers, later wins: defaults → user file (``$CONTEXTOS_HOME/config.toml``) → project file
(``<root>/.contextos.toml``) → environment (``CONTEXTOS_*``) → explicit overrides (CLI flags).
Only the keys declared on ``Settings`` are accepted; an unknown key or a bad value is a
``ConfigError`` naming the key and the file it came from.

The project file comes with a cloned repository, so it is not the user's word: it may set only
the keys in ``REPO_SAFE`` (sizes, chunking, timeouts: what changes how a repository is indexed)
unless the user trusts that repository (``contextos trust PATH``, see ``contextos.trust``).
Everything else (endpoints, keys, models, the offline switch: what loads code or sends data
elsewhere) is dropped from it with one notice per key. ``REPO_SAFE`` is an allowlist, so a new
setting is refused to repositories until someone decides otherwise.
"""

from __future__ import annotations

import os
import shlex
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contextos.errors import ConfigError
from contextos.home import user_config_path

__all__ = ["REPO_SAFE", "Settings", "load_settings", "settings_markdown"]


class Settings(BaseModel):
    """Every knob contextos reads. Field descriptions double as documentation."""

    # protected_namespaces=(): pydantic < 2.10 would warn about the model_* fields.
    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())

    embedder: str = Field(
        "auto",
        description=(
            "Embedding model: 'auto' (offline resolution: cached → hub → local build → lexical), "
            "'model2vec:<name-or-path>', 'sentence-transformers:<name-or-path>', "
            "'openai:<model>' (uses embed_base_url), or 'none' for lexical-only search."
        ),
    )
    embed_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible /v1/embeddings server."
    )
    embed_api_key: str | None = Field(
        None, description="API key for the embeddings server (env CONTEXTOS_EMBED_API_KEY)."
    )
    embed_batch_size: int = Field(256, ge=1, description="Texts per embedding request/batch.")
    offline: bool = Field(
        False,
        description=(
            "Never ask a model hub for an embedding model ('auto' then uses a cached or "
            "locally built model). HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE count as well."
        ),
    )
    max_file_bytes: int = Field(
        1024 * 1024, ge=1, description="Files larger than this are skipped (default 1 MiB)."
    )
    window_lines: int = Field(60, ge=5, description="Lines per chunk for files without a parser.")
    max_chunk_lines: int = Field(
        200, ge=10, description="Syntax chunks longer than this are split into windows."
    )
    model: str | None = Field(
        None,
        description=(
            "Chat model as 'provider:model': 'openai:gpt-4.1-mini' (OPENAI_API_KEY), "
            "'anthropic:claude-sonnet-5-5' (ANTHROPIC_API_KEY) or 'ollama:qwen3:8b'. "
            "None: commands that need a model say how to configure one."
        ),
    )
    model_base_url: str | None = Field(
        None,
        description=(
            "Base URL of the chat model server: any OpenAI-compatible /v1 endpoint for "
            "'openai:' (vLLM, llama.cpp, OpenRouter), Ollama for 'ollama:' (default "
            "http://localhost:11434/v1), an Anthropic-compatible gateway for 'anthropic:'."
        ),
    )
    model_timeout_s: float = Field(
        60.0, gt=0, description="Seconds to wait for one chat model answer before retrying."
    )
    model_max_retries: int = Field(
        3, ge=0, description="Retries of a chat call on 429, 5xx, timeouts and lost connections."
    )
    mcp_auth: Literal["auto", "required"] = Field(
        "auto",
        description=(
            "HTTP MCP endpoint: 'auto' requires a bearer token on a non-loopback bind or once "
            "any token exists; 'required' always (a server without tokens refuses to start)."
        ),
    )
    mcp_max_body_bytes: int = Field(
        1 << 20, ge=1, description="HTTP MCP endpoint: largest request body (larger: 413)."
    )
    mcp_rate: float = Field(
        20.0, gt=0, description="HTTP MCP endpoint: requests per second per token (average)."
    )
    mcp_burst: int = Field(
        40, ge=1, description="HTTP MCP endpoint: requests a token may make at once (429 after)."
    )
    mcp_log: str | None = Field(
        None, description="HTTP MCP endpoint: file for the JSON tool-call log (default stderr)."
    )
    database_url: str | None = Field(
        None,
        description=(
            "PostgreSQL URL (postgresql://user:pass@host/db) for the team backend: memories"
            " and sessions live there instead of the SQLite files under CONTEXTOS_HOME."
        ),
    )
    database_schema: str = Field(
        "contextos",
        pattern=r"^[a-z_][a-z0-9_]{0,40}$",
        description=(
            "PostgreSQL schema prefix: stores live in <prefix>_memory and <prefix>_sessions"
            " (one prefix per team sharing a database)."
        ),
    )
    database_pool_max: int = Field(
        10, ge=1, description="PostgreSQL: most connections one process opens (a pool)."
    )
    database_pool_timeout_s: float = Field(
        10.0, gt=0, description="PostgreSQL: seconds to wait for a free pooled connection."
    )
    database_statement_timeout_ms: int = Field(
        30000, ge=0, description="PostgreSQL: longest statement in milliseconds (0: no limit)."
    )


REPO_SAFE: frozenset[str] = frozenset(
    {
        "embed_batch_size",
        "max_file_bytes",
        "window_lines",
        "max_chunk_lines",
        "model_timeout_s",
        "model_max_retries",
    }
)
"""The settings an untrusted repository's ``.contextos.toml`` may set: none of them names an
endpoint, a key, a model or anything else that loads code or sends data elsewhere."""

_ENV_PREFIX = "CONTEXTOS_"


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    return {k.replace("-", "_"): v for k, v in data.items()}


def _from_env() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in Settings.model_fields:
        raw = os.environ.get(_ENV_PREFIX + name.upper())
        if raw is not None and raw != "":
            out[name] = raw
    return out


def load_settings(
    root: Path | None = None, *, warnings: list[str] | None = None, **overrides: Any
) -> Settings:
    """Build ``Settings`` from all layers; ``overrides`` with value ``None`` are ignored.

    Keys outside ``REPO_SAFE`` in ``<root>/.contextos.toml`` are dropped unless ``root`` is
    trusted; one line per dropped key is appended to ``warnings`` for the caller to show.
    """
    layers: list[tuple[str, dict[str, Any]]] = [
        (str(user_config_path()), _read_toml(user_config_path())),
    ]
    if root is not None:
        project = root / ".contextos.toml"
        values = _read_toml(project)
        _check_known(values, str(project))
        layers.append((str(project), _repo_layer(root, project, values, warnings)))
    layers.append(("environment", _from_env()))
    layers.append(("flags", {k: v for k, v in overrides.items() if v is not None}))
    merged: dict[str, Any] = {}
    for source, values in layers:
        _check_known(values, source)
        merged.update(values)
    try:
        return Settings(**merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"invalid setting {key!r}: {first['msg']}") from exc


def _check_known(values: dict[str, Any], source: str) -> None:
    unknown = set(values) - set(Settings.model_fields)
    if unknown:
        raise ConfigError(f"unknown setting(s) {sorted(unknown)} in {source}")


def _repo_layer(
    root: Path, project: Path, values: dict[str, Any], warnings: list[str] | None
) -> dict[str, Any]:
    """``values`` of the project file without the keys an untrusted repository may not set."""
    unsafe = [key for key in values if key not in REPO_SAFE]
    if not unsafe:
        return values
    from contextos.trust import is_trusted

    if is_trusted(root):
        return values
    command = f"contextos trust {shlex.quote(str(root.resolve()))}"
    if warnings is not None:
        warnings.extend(
            f"ignored {key} from {project}: this repository is not trusted ({command})"
            for key in unsafe
        )
    return {key: value for key, value in values.items() if key in REPO_SAFE}


def settings_markdown() -> str:
    """``docs/settings.md``, generated from ``Settings`` so the table cannot drift (a test
    regenerates it: ``python -m contextos.settings > docs/settings.md``)."""
    lines = [
        "# Settings",
        "",
        "Generated from `contextos.settings.Settings`; do not edit by hand.",
        "",
        "Layers, later wins: defaults → `$CONTEXTOS_HOME/config.toml` → `<root>/.contextos.toml` "
        "→ environment (`CONTEXTOS_<KEY>`) → command-line flags. Unknown keys and bad values are "
        "errors naming the key and the file. The one variable outside these layers is "
        "`CONTEXTOS_HOME` (default `~/.contextos`), which says where the user file lives.",
        "",
        "A repository's `.contextos.toml` comes with the clone, so it may set only the keys "
        "marked *yes* under *repo file* (what changes how it is indexed). The others (endpoints, "
        "keys, models: what loads code or sends data elsewhere) are ignored there, with one "
        "warning per key, until you trust that repository: `contextos trust PATH` records its "
        "resolved path in `$CONTEXTOS_HOME/trusted.json` (exact match: directories under it are "
        "not trusted with it).",
        "",
        "| key | environment | default | repo file | meaning |",
        "|---|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = "(none)" if field.default is None else f"`{field.default!r}`"
        description = (field.description or "").replace("|", "\\|")
        repo = "yes" if name in REPO_SAFE else "if trusted"
        env = f"`{_ENV_PREFIX}{name.upper()}`"
        lines.append(f"| `{name}` | {env} | {default} | {repo} | {description} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(settings_markdown())

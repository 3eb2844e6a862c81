"""Typed, layered settings.

Layers, later wins: defaults → user file (``$CONTEXTOS_HOME/config.toml``) → project file
(``<root>/.contextos.toml``) → environment (``CONTEXTOS_*``) → explicit overrides (CLI flags).
Only the keys declared on ``Settings`` are accepted; an unknown key or a bad value is a
``ConfigError`` naming the key and the file it came from.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contextos.errors import ConfigError
from contextos.home import user_config_path

__all__ = ["Settings", "load_settings", "settings_markdown"]


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


def load_settings(root: Path | None = None, **overrides: Any) -> Settings:
    """Build ``Settings`` from all layers; ``overrides`` with value ``None`` are ignored."""
    layers: list[tuple[str, dict[str, Any]]] = [
        (str(user_config_path()), _read_toml(user_config_path())),
    ]
    if root is not None:
        layers.append((str(root / ".contextos.toml"), _read_toml(root / ".contextos.toml")))
    layers.append(("environment", _from_env()))
    layers.append(("flags", {k: v for k, v in overrides.items() if v is not None}))
    merged: dict[str, Any] = {}
    for source, values in layers:
        unknown = set(values) - set(Settings.model_fields)
        if unknown:
            raise ConfigError(f"unknown setting(s) {sorted(unknown)} in {source}")
        merged.update(values)
    try:
        return Settings(**merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"invalid setting {key!r}: {first['msg']}") from exc


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
        "| key | environment | default | meaning |",
        "|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = "(none)" if field.default is None else f"`{field.default!r}`"
        description = (field.description or "").replace("|", "\\|")
        lines.append(f"| `{name}` | `{_ENV_PREFIX}{name.upper()}` | {default} | {description} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(settings_markdown())

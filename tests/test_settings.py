"""Settings are the one door for configuration: the docs table is generated from them, and every
``CONTEXTOS_*`` variable the package reads is a setting (or the home locator)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contextos.errors import ConfigError
from contextos.settings import Settings, load_settings, settings_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_settings_docs_are_generated_from_the_settings_model() -> None:
    generated = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")

    assert generated == settings_markdown() + "\n", (
        "regenerate with: python -m contextos.settings > docs/settings.md"
    )


def test_every_contextos_variable_the_package_reads_is_a_setting() -> None:
    names = set()
    for path in (ROOT / "src" / "contextos").rglob("*.py"):
        names |= set(re.findall(r"\bCONTEXTOS_[A-Z][A-Z0-9_]*[A-Z0-9]\b", path.read_text()))
    declared = {f"CONTEXTOS_{name.upper()}" for name in Settings.model_fields}

    assert names - declared == {"CONTEXTOS_HOME"}


def test_offline_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTEXTOS_OFFLINE", "0")
    assert load_settings().offline is False
    monkeypatch.setenv("CONTEXTOS_OFFLINE", "1")
    assert load_settings().offline is True
    monkeypatch.setenv("CONTEXTOS_OFFLINE", "sometimes")
    with pytest.raises(ConfigError, match="'offline'"):
        load_settings()

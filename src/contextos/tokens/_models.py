"""Which counter fits a model name: exact for OpenAI models, a stated estimate for the rest.

The mapping follows tiktoken's ``model.py`` (gpt-4o, gpt-4.1, gpt-4.5, gpt-5, gpt-oss and the
o-series use o200k_base; gpt-4 and gpt-3.5 use cl100k_base), matched on prefixes so dated and
fine-tuned names resolve too. Provider prefixes (``openai:``, ``openrouter/openai/``, Bedrock's
``us.anthropic.``) and case are ignored.

Claude's tokenizer is private, so Claude models get an o200k_base count times a safety factor:

- ``CLAUDE_FACTOR = 1.3`` for Claude 3 through Opus 4.6. Published side-by-side measurements
  of Claude 3.5 Sonnet against GPT-4o (VentureBeat, "Hidden costs in AI deployment", 2025) put
  that tokenizer at about 16% more tokens than o200k on English prose, 21% on math and 30% on
  Python code; code is what contextos packs most, so the factor covers the code case.
- ``CLAUDE_47_FACTOR = 1.75`` for Opus 4.7 and later (and for a ``claude`` name without a
  version). Anthropic's release notes for Opus 4.7 say its new tokenizer yields 1.0-1.35x the
  tokens of the previous one for the same text; 1.3 x 1.35 = 1.755.

Unknown models get ``UNKNOWN_FACTOR = 1.3`` over o200k_base: current public tokenizers (Llama 3,
Qwen, Mistral, Gemini) fall within that band of o200k on code. The factors lean high on purpose:
overcounting wastes some budget, undercounting overflows a window. The exact figure is always
available from the provider's count-tokens endpoint, which needs the network and is left out.
"""

from __future__ import annotations

import re

from contextos.tokens._counters import EstimatingCounter, ExactCounter, TokenCounter

__all__ = ["CLAUDE_47_FACTOR", "CLAUDE_FACTOR", "UNKNOWN_FACTOR", "counter_for_model"]

CLAUDE_FACTOR = 1.3
"""o200k_base count multiplier for Claude 3 through Claude Opus 4.6."""
CLAUDE_47_FACTOR = 1.75
"""o200k_base count multiplier for Claude Opus 4.7 and later tokenizers."""
UNKNOWN_FACTOR = 1.3
"""o200k_base count multiplier for a model whose tokenizer is not known."""

_O200K = re.compile(r"(ft:)?(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|codex-|o\d+(-|$))")
_CL100K = re.compile(
    r"(ft:)?(gpt-4|gpt-3\.5|gpt-35|text-embedding-3|text-embedding-ada-002|davinci-002|babbage-002)"
)
_PROVIDER_COLON = re.compile(r"^(?!ft:)[a-z][a-z0-9_-]*:")
_BEDROCK = re.compile(r"^(?:(?:us|eu|apac|global)\.)?(?:openai|anthropic)\.")


def _bare(model: str) -> str:
    """``openai:gpt-4.1``, ``openrouter/openai/gpt-4.1``, ``us.openai.gpt-4.1``: ``gpt-4.1``."""
    name = _PROVIDER_COLON.sub("", model.strip().lower())
    return _BEDROCK.sub("", name.rsplit("/", 1)[-1])


def _claude_version(model: str) -> tuple[int, ...]:
    """``(major, minor)`` of a Claude model name, in either naming scheme; ``()`` if none.

    ``claude-3-5-sonnet-20241022`` is (3, 5), ``claude-opus-4-7`` is (4, 7),
    ``claude-sonnet-4-20250514`` is (4,): numbers stop at the date.
    """
    numbers: list[int] = []
    for part in re.split(r"[-.@_:]", model.split("claude", 1)[1]):
        if not part.isdigit():
            continue
        if len(part) > 2:
            break
        numbers.append(int(part))
    return tuple(numbers[:2])


def counter_for_model(model: str) -> TokenCounter:
    """The best offline counter for ``model``: exact when its tokenizer is public, else an
    ``EstimatingCounter`` whose ``margin`` states the safety factor. Never raises, no network.
    """
    name = _bare(model)
    if _O200K.match(name):
        return ExactCounter("o200k_base")
    if _CL100K.match(name):
        return ExactCounter("cl100k_base")
    base = ExactCounter("o200k_base")
    if "claude" in name:
        version = _claude_version(name)
        factor = CLAUDE_FACTOR if version and version < (4, 7) else CLAUDE_47_FACTOR
        return EstimatingCounter(base, factor)
    return EstimatingCounter(base, UNKNOWN_FACTOR)

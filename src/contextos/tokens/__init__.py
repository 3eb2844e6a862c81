"""Token counting: exact for OpenAI's o200k_base and cl100k_base, a stated estimate otherwise.

    >>> from contextos.tokens import counter_for_model
    >>> counter = counter_for_model("gpt-4.1")
    >>> counter.name, counter.margin, counter.count("hello world")
    ('o200k_base', 0.0, 2)

Exact counts use tiktoken's BPE with rank files bundled in this package (no download); a golden
test checks ids against tiktoken loading the official files and against a pure-Python BPE.
Claude's tokenizer is private: ``counter_for_model("claude-...")`` scales o200k counts by a
documented safety factor and says so in ``margin``.

Importing this package loads nothing (not even tiktoken); the first count of an encoding reads
and verifies its ranks (a few tenths of a second for o200k_base) and keeps them for the process.

Modules: ``_encodings`` (specs, bundled data, provenance), ``_counters`` (the protocol and the
two counters), ``_models`` (model name to counter).
"""

from __future__ import annotations

from contextos.tokens._counters import (
    LINE_END_CUT,
    AdditiveCounter,
    EstimatingCounter,
    ExactCounter,
    TokenCounter,
)
from contextos.tokens._encodings import ENCODINGS
from contextos.tokens._models import (
    CLAUDE_47_FACTOR,
    CLAUDE_FACTOR,
    UNKNOWN_FACTOR,
    counter_for_model,
)

__all__ = [
    "CLAUDE_47_FACTOR",
    "CLAUDE_FACTOR",
    "ENCODINGS",
    "LINE_END_CUT",
    "UNKNOWN_FACTOR",
    "AdditiveCounter",
    "EstimatingCounter",
    "ExactCounter",
    "TokenCounter",
    "counter_for_model",
]

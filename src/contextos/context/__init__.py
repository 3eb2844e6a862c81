"""The context engine: what goes into a model's window, within a token budget, and why.

``Layer`` → ``pack(layers, budget, counter)`` (pure) → ``Pack`` (messages for OpenAI or
Anthropic, and a report per layer). ``build_context`` gathers the sources of a task (rules,
memories, code search, session history, tool specs, reminders) and packs them. Compaction never
destroys: ``SessionStore`` keeps every event; masking, summaries and handoffs change only what is
packed. ``render_html`` draws a pack as one self-contained page.
"""

from contextos.context.blocks import Excerpt, merge_hits, quoted
from contextos.context.builder import ContextResult, SessionView, assemble, build_context
from contextos.context.compaction import (
    CompactionSummary,
    facts,
    mask_observations,
    render_summary,
    summarize,
)
from contextos.context.compress import code_density, density, head
from contextos.context.counting import CharCounter, TokenCounter, WordCounter, counter_for
from contextos.context.handoff import compact, handoff, handoff_prompt
from contextos.context.html import render_html
from contextos.context.layers import Layer, State
from contextos.context.packer import pack
from contextos.context.report import LayerReport, Pack
from contextos.context.session import Compaction, Event, SessionStore
from contextos.context.tools import DEFAULT_TOOLS, ToolSpec

__all__ = [
    "DEFAULT_TOOLS",
    "CharCounter",
    "Compaction",
    "CompactionSummary",
    "ContextResult",
    "Event",
    "Excerpt",
    "Layer",
    "LayerReport",
    "Pack",
    "SessionStore",
    "SessionView",
    "State",
    "TokenCounter",
    "ToolSpec",
    "WordCounter",
    "assemble",
    "build_context",
    "code_density",
    "compact",
    "counter_for",
    "density",
    "facts",
    "handoff",
    "handoff_prompt",
    "head",
    "mask_observations",
    "merge_hits",
    "pack",
    "quoted",
    "render_html",
    "render_summary",
    "summarize",
]

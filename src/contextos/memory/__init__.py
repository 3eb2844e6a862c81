"""Long-term memory: remember, recall, extract with a model, consolidate, export and import.

``MemoryStore`` holds memories (bi-temporal versions with history), entity–relation edges and
key–value facts in one SQLite file; ``ExtractionQueue`` runs the model pipeline (extract →
evaluate → update) over conversation windows persisted before any model call.

Modules, by job: ``store`` (the front door), ``records`` (the value types), ``ingest`` (user or
model input → validated ``Memory`` values with vectors), ``versions`` (the only ways a memory
changes: add, supersede, close, forget, each with history rows), ``sql`` (the SQL of memory and
history rows, the only place that writes them), ``schema`` (migrations), ``lexical`` (tokens,
keywords, BM25 postings), ``index`` and ``recall`` (the recall snapshot and ranking), ``graph``
(edges and facts), ``replies`` (the structured replies asked of models) with ``prompts``,
``pipeline`` / ``jobs`` / ``worker`` / ``transcript`` (model extraction), ``consolidate``,
``portable`` (Markdown export and import).
"""

from contextos.memory.jobs import ExtractionOutcome, ExtractionQueue
from contextos.memory.recall import RecallConfig
from contextos.memory.records import Edge, Fact, HistoryEntry, Memory, RecallHit
from contextos.memory.store import MemoryStore
from contextos.memory.worker import ExtractionWorker

__all__ = [
    "Edge",
    "ExtractionOutcome",
    "ExtractionQueue",
    "ExtractionWorker",
    "Fact",
    "HistoryEntry",
    "Memory",
    "MemoryStore",
    "RecallConfig",
    "RecallHit",
]

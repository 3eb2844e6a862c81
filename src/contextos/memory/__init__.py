"""Long-term memory: remember, recall, extract with a model, consolidate, export and import.

``MemoryStore`` holds memories (bi-temporal versions with history), entity–relation edges and
key–value facts in one SQLite file; ``ExtractionQueue`` runs the model pipeline (extract →
evaluate → update) over conversation windows persisted before any model call.
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

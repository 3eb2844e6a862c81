"""Typed values shared across the package: chunks, search hits, index summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Chunk", "FileHit", "IndexSummary", "SearchHit", "SearchMode"]

SearchMode = Literal["hybrid", "lexical", "dense"]


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of a file: a function, method, class, or a window of lines.

    ``start_line`` and ``end_line`` are 1-based and inclusive. ``symbol`` is the qualified name
    (``Class.method``) or ``None`` for line windows; ``context`` carries the enclosing class line
    and the signature so the chunk can be understood (and embedded) alone.
    """

    path: str
    language: str
    start_line: int
    end_line: int
    text: str
    symbol: str | None = None
    kind: str = "window"
    context: str = ""


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One ranked chunk."""

    path: str
    start_line: int
    end_line: int
    score: float
    symbol: str | None
    kind: str
    language: str
    text: str


@dataclass(frozen=True, slots=True)
class FileHit:
    """One ranked file, with the chunks that made it rank."""

    path: str
    score: float
    chunks: list[SearchHit] = field(default_factory=list)


@dataclass(slots=True)
class IndexSummary:
    """What one ``index`` run did."""

    root: str
    files_seen: int = 0
    files_added: int = 0
    files_changed: int = 0
    files_deleted: int = 0
    files_unchanged: int = 0
    chunks_written: int = 0
    chunks_total: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    embedder: str = "none"
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

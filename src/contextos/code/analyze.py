"""Turn one file's text into what the index stores: chunks and their lexical tokens.

A pure, picklable function so the indexer can run it in worker processes; it never touches the
database. Tokens are stored space-joined (the FTS5 columns ``body`` and ``names``), which is also
what the in-memory BM25 snapshot is built from.
"""

from __future__ import annotations

from dataclasses import dataclass

from contextos.code.chunking import chunk_file
from contextos.code.chunking.languages import language_for
from contextos.retrieval.tokenize import code_tokens
from contextos.types import Chunk

__all__ = ["Analysis", "analyze", "analyze_args"]


@dataclass(slots=True)
class Analysis:
    """Chunks of a file with, per chunk, body tokens and name tokens (symbol + path), and the
    file's own name tokens (path + defined symbols)."""

    language: str
    chunks: list[Chunk]
    chunk_tokens: list[str]
    chunk_names: list[str]
    file_names: str


def _name_tokens(text: str) -> list[str]:
    return code_tokens(text.replace(".", " ").replace("/", " "), keep_stopwords=True)


def analyze(rel: str, text: str, window_lines: int, max_chunk_lines: int) -> Analysis:
    """Chunk ``text`` (the content of ``rel``) and tokenise every chunk."""
    language = language_for(rel) or "text"
    chunks = chunk_file(rel, text, window_lines=window_lines, max_chunk_lines=max_chunk_lines)
    path_tokens = " ".join(_name_tokens(rel))
    tokens = [" ".join(code_tokens(c.text)) for c in chunks]
    names = [f"{' '.join(_name_tokens(c.symbol or ''))} {path_tokens}" for c in chunks]
    defined = {c.symbol for c in chunks if c.symbol and c.kind != "module"}
    file_names = f"{path_tokens} {' '.join(_name_tokens(' '.join(sorted(defined))))}"
    return Analysis(language, chunks, tokens, names, file_names)


def analyze_args(args: tuple[str, str, int, int]) -> Analysis:
    """``analyze`` over one tuple, for ``Executor.map``."""
    return analyze(*args)

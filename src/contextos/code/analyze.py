"""Turn one file's text into what the index stores: chunks and their lexical tokens.

A pure, picklable function so the indexer can run it in worker processes; it never touches the
database. Tokens are stored space-joined (the FTS5 columns ``body`` and ``names``), which is also
what the in-memory BM25 snapshot is built from. ``die_with_parent`` is those workers' initializer:
a worker whose indexer is killed (``kill -9``) exits instead of living on under PID 1.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from dataclasses import dataclass

from contextos.code.chunking import chunk_file
from contextos.code.chunking.languages import language_for
from contextos.retrieval.tokenize import code_tokens
from contextos.types import Chunk

__all__ = ["Analysis", "analyze", "analyze_args", "die_with_parent"]


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


def analyze_args(args: tuple[str, str, int, int]) -> Analysis | str:
    """``analyze`` over one tuple, for ``Executor.map``; or, if it raises, the reason the
    indexer skips the file (``error: <ExceptionType>``): one pathological file must not end a
    run over thousands, and in a pool one raising item would lose every result after it."""
    try:
        return analyze(*args)
    except Exception as exc:  # a chunker bug on one file; counted as a skip reason
        return f"error: {type(exc).__name__}"


_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Pool initializer: end this worker when ``parent_pid`` (the indexer) dies.

    On Linux the kernel does it (``prctl(PR_SET_PDEATHSIG, SIGKILL)``; the signal follows the
    parent *thread*, and the indexer's pool lives and dies within one thread). Elsewhere a
    daemon thread polls the parent pid. Checking ``os.getppid()`` once the watch is set closes
    the race with a parent that died while this worker started.
    """
    if not (sys.platform.startswith("linux") and _set_death_signal()):
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:
        os._exit(1)


def _set_death_signal() -> bool:
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(1)

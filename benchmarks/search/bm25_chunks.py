"""The ``bm25`` baseline of the search benchmark: plain BM25 over semble-style chunks.

Chunks: when semble is importable, exactly the files and chunks semble indexes (its file walker
over code extensions, its size filter, its tree-sitter chunker of ~750 characters); otherwise
fixed 50-line windows starting every 40 lines over ``walk_text_files``. ``chunker`` in the
result notes says which. One document per chunk: its text, then its file's stem twice and the
names of its last three directories (``document``: the enrichment semble's own BM25 uses; with the
path prepended once instead, NDCG@10 is 0.667 rather than 0.682 on the 28 repositories). Tokens
(``code_tokens``): every identifier or number, lowercased, plus its camelCase/snake_case parts
when it has more than one. ``bm25s`` Lucene BM25, k1 1.5, b 0.75; chunks with a zero score are
not returned. Left out: stemming, stop words, path boosts, any reranking.
"""

from __future__ import annotations

import importlib
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from benchmarks.common.trees import walk_text_files
from benchmarks.search.data import DEFAULT_MIRRORS, checkout, corpus_dir
from benchmarks.search.evaluate import RepoRun
from benchmarks.search.metric import Hit, K

__all__ = [
    "WINDOW_LINES",
    "WINDOW_STEP",
    "Bm25Chunks",
    "bm25_runs",
    "code_tokens",
    "document",
    "window_chunks",
]

WINDOW_LINES = 50
WINDOW_STEP = 40

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

Chunk = tuple[str, int, int, str]
"""path, first line, last line, text."""


def code_tokens(text: str) -> list[str]:
    """Identifiers and numbers, lowercased, each followed by its parts when it has several:
    ``getHTTPResponse`` → ``gethttpresponse get http response``."""
    out: list[str] = []
    for word in _IDENT.findall(text):
        out.append(word.lower())
        parts = _PART.findall(word)
        if len(parts) > 1:
            out.extend(p.lower() for p in parts)
    return out


def document(path: str, text: str) -> str:
    """The text BM25 indexes for a chunk: text, file stem twice, last three directory names."""
    parts = PurePosixPath(path)
    dirs = " ".join([p for p in parts.parent.parts if p not in (".", "/")][-3:])
    return f"{text} {parts.stem} {parts.stem} {dirs}"


def window_chunks(root: Path, paths: Sequence[str]) -> Iterator[Chunk]:
    """Fixed windows of ``WINDOW_LINES`` lines every ``WINDOW_STEP`` lines of each file."""
    for path in paths:
        lines = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
        for start in range(0, max(len(lines), 1), WINDOW_STEP):
            window = lines[start : start + WINDOW_LINES]
            if any(line.strip() for line in window):
                yield path, start + 1, start + len(window), "\n".join(window)
            if start + WINDOW_LINES >= len(lines):
                break


def semble_chunks(root: Path) -> Iterator[Chunk]:
    """The chunks semble would index under ``root`` (semble must be importable)."""
    walker = importlib.import_module("semble.index.file_walker")
    files = importlib.import_module("semble.index.files")
    chunking = importlib.import_module("semble.chunking.chunking")
    types = importlib.import_module("semble.types")
    extensions = files.get_extensions([types.ContentType.CODE])
    for path in sorted(walker.walk_files(root, extensions)):
        if files.get_file_status(path, path.stat()) != files.FileStatus.VALID:
            continue
        rel = path.relative_to(root).as_posix()
        text = files.read_file_text(path)
        for c in chunking.chunk_source(text, rel, files.detect_language(path)):
            yield rel, c.start_line, c.end_line, c.content


class Bm25Chunks:
    """BM25 over a list of chunks; ``search`` returns the best ``k`` as hits."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        import bm25s

        self.chunks = list(chunks)
        self._bm25 = bm25s.BM25(k1=1.5, b=0.75)
        self._bm25.index(
            [code_tokens(document(path, text)) or ["\0"] for path, _, _, text in self.chunks],
            show_progress=False,
        )

    def search(self, query: str, k: int = K) -> list[Hit]:
        import numpy as np

        ids = self._bm25.get_tokens_ids(code_tokens(query))
        if not ids or not self.chunks:
            return []
        scores = self._bm25.get_scores_from_ids(ids)
        order = np.argsort(-scores, kind="stable")[:k]
        return [self.chunks[i][:3] for i in order if scores[i] > 0]


def _chunks_for(root: Path, use_semble: bool) -> list[Chunk]:
    if use_semble:
        return list(semble_chunks(root))
    return list(window_chunks(root, walk_text_files(root)))


def bm25_runs(
    repos: Sequence[dict[str, Any]],
    queries: Sequence[dict[str, Any]],
    work: Path,
    *,
    use_semble: bool,
    mirrors: Path = DEFAULT_MIRRORS,
    log: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True),
) -> dict[str, RepoRun]:
    """Chunk and index each repository (timed together), then answer its queries."""
    out: dict[str, RepoRun] = {}
    chunker = "semble" if use_semble else f"windows-{WINDOW_LINES}/{WINDOW_STEP}"
    for i, repo in enumerate(repos, 1):
        name = repo["name"]
        try:
            tree, _ = checkout(repo, work, mirrors)
            t0 = time.perf_counter()
            engine = Bm25Chunks(_chunks_for(corpus_dir(tree, repo), use_semble))
            index_s = time.perf_counter() - t0
        except Exception as exc:  # a benchmark records the failure and goes on
            out[name] = RepoRun(error=f"{type(exc).__name__}: {exc}")
            log(f"[bm25 {i}/{len(repos)}] {name}: FAILED {exc}")
            continue
        engine.search("warm up the search path")
        run = out[name] = RepoRun(
            index_s=index_s, notes={"chunks": len(engine.chunks), "chunker": chunker}
        )
        for q in (q for q in queries if q["repo"] == name):
            t0 = time.perf_counter()
            run.hits[q["qid"]] = engine.search(q["query"])
            run.query_ms[q["qid"]] = (time.perf_counter() - t0) * 1000
        log(f"[bm25 {i}/{len(repos)}] {name}: {len(engine.chunks)} chunks, index {index_s:.1f}s")
    return out

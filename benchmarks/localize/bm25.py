"""The whole-file BM25 baseline of the localization and packing benchmarks.

One document per file: its path, a newline, its text, tokenised by contextos's ``code_tokens``
(the same tokens contextos indexes), test files left out; ``bm25s`` Lucene BM25 with k1 1.5 and
b 0.75. Left out: chunking, fusion, anything contextos adds on top of BM25.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.common.trees import is_test_path

__all__ = ["BM25_DESCRIPTION", "Bm25Files"]

BM25_DESCRIPTION: dict[str, Any] = {
    "library": "bm25s",
    "method": "lucene",
    "k1": 1.5,
    "b": 0.75,
    "document": "path + file text",
    "tokenizer": "contextos.retrieval.tokenize.code_tokens",
    "tests_excluded": True,
}


class Bm25Files:
    """Whole-file BM25 over a fixed list of files; one document = path + file text."""

    def __init__(self, root: Path, paths: list[str]) -> None:
        import bm25s

        from contextos.retrieval.tokenize import code_tokens

        self._tokens = code_tokens
        self.paths = [p for p in paths if not is_test_path(p)]
        corpus = [
            code_tokens(p + "\n" + (root / p).read_text(encoding="utf-8", errors="replace"))
            for p in self.paths
        ]
        self._bm25 = bm25s.BM25()
        self._bm25.index(corpus, show_progress=False)

    def rank(self, query: str, depth: int) -> list[str]:
        """Paths with a positive score, best first, at most ``depth``."""
        import numpy as np

        ids = self._bm25.get_tokens_ids(self._tokens(query))
        if not ids or not self.paths:
            return []
        scores = self._bm25.get_scores_from_ids(ids)
        order = np.argsort(-scores, kind="stable")[:depth]
        return [self.paths[i] for i in order if scores[i] > 0]

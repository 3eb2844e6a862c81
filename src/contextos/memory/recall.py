"""Recall ranking: hybrid lexical + vector search per query, fused by reciprocal rank.

``rank(index, queries, vectors, keep, k)`` searches the snapshot once per query — BM25 over
stemmed tokens, the same scores spread over neighbouring turns of a session (``index.context``),
cosine over vectors when there are any — and fuses every ranking with weighted RRF
(``code.fusion.rrf``, k = 20). The first query is the user's; the rest are the 2–4 sub-questions a
model wrote (``sub_queries``, schema ``memory_queries``), weighted lower so that a vague rewrite
cannot drown the literal query. ``keep`` (scope, validity, ``as_of``) is applied inside each
search, before ranking. Left out: re-ranking with a model, recency decay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from contextos.llm.protocol import LLM
from contextos.memory.index import RecallIndex, top
from contextos.memory.lexical import memory_tokens
from contextos.memory.prompts import render
from contextos.memory.replies import MemoryQueries
from contextos.retrieval.bm25 import query_weights
from contextos.retrieval.fusion import rrf, top_by_score

__all__ = ["RecallConfig", "rank", "sub_queries"]


@dataclass(frozen=True, slots=True)
class RecallConfig:
    """Ranking knobs; defaults tuned on the LoCoMo dev file only (``benchmarks.locomo``)."""

    rrf_k: float = 20.0
    w_lexical: float = 1.0
    w_context: float = 0.75
    w_dense: float = 0.7
    w_sub_query: float = 0.5
    candidates: int = 100
    max_terms: int = 48


def sub_queries(llm: LLM, query: str) -> list[str]:
    """2–4 search queries a model derives from ``query`` (the ``queries`` prompt)."""
    prompt = render("queries", query=query)
    reply = llm.complete([{"role": "user", "content": prompt}], schema=MemoryQueries)
    parsed: MemoryQueries = reply.parsed
    return [q.strip() for q in parsed.queries if q.strip()][:4]


def rank(
    index: RecallIndex,
    queries: Sequence[str],
    vectors: NDArray[np.float32] | None,
    keep: NDArray[np.bool_],
    k: int,
    config: RecallConfig,
) -> list[tuple[int, float]]:
    """``[(seq, fused score)]`` of the ``k`` best rows, best first."""
    rankings: dict[str, list[int]] = {}
    weights: dict[str, float] = {}
    limit = max(config.candidates, k)
    for i, query in enumerate(queries):
        factor = 1.0 if i == 0 else config.w_sub_query
        terms = query_weights(memory_tokens(query), index.bm25, config.max_terms)
        lexical = index.lexical(terms, keep)
        rankings[f"lexical{i}"] = top(lexical, limit, positive=True)
        rankings[f"context{i}"] = top(index.context(lexical, keep), limit, positive=True)
        weights[f"lexical{i}"] = config.w_lexical * factor
        weights[f"context{i}"] = config.w_context * factor
        if vectors is not None:
            rankings[f"dense{i}"] = top(index.dense(vectors[i], keep), limit, positive=False)
            weights[f"dense{i}"] = config.w_dense * factor
    scores = rrf(rankings, weights, config.rrf_k)
    best = top_by_score(scores, k)
    return [(int(index.seqs[pos]), scores[pos]) for pos in best]

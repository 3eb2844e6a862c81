"""The in-memory recall index: BM25 postings, a vector matrix and validity/scope arrays.

One snapshot of every memory row that was not forgotten (current *and* closed versions, so
``as_of`` queries can reach the past), rebuilt lazily when the database ``generation`` moves on
(any process's write bumps it). A query then costs a few numpy operations: BM25 over posting
slices (``lexical.build_bm25``), one matrix–vector product, and a boolean mask for scope and
validity applied *before* ranking, so filters never empty a top-k.

Context: memories stored consecutively with the same ``valid_from``, tag and scope form a *run*
(the turns of one conversation session ingested together). ``context`` adds to each memory's
lexical score a share of its neighbours' in the run (``CONTEXT_WEIGHT`` at distance 1, half that
at 2), so a turn that answers a question without repeating its words is found through the turns
around it. Memories remembered one by one have runs of one and are unaffected.

Rebuilding takes about 0.2 s per 10k memories. Left out: approximate nearest neighbours (an exact
product over 10k rows is under a millisecond).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from contextos.memory.lexical import build_bm25
from contextos.memory.records import SCOPES, from_iso
from contextos.memory.sql import visible
from contextos.retrieval.bm25 import Bm25Index
from contextos.store.db import Connection

__all__ = ["CONTEXT_WEIGHT", "NAMES_WEIGHT", "RecallIndex"]

NAMES_WEIGHT = 0.5
"""Weight of tag and keyword tokens relative to the memory text in BM25."""
CONTEXT_WEIGHT = 0.5
CONTEXT_WIDTH = 2

Scores = NDArray[np.float32]
Mask = NDArray[np.bool_]


@dataclass(slots=True)
class RecallIndex:
    generation: int
    seqs: NDArray[np.int64]
    scopes: NDArray[np.int8]
    valid_from: NDArray[np.float64]
    valid_to: NDArray[np.float64]
    runs: NDArray[np.int64]
    has_vector: Mask
    matrix: NDArray[np.float32]
    bm25: Bm25Index
    bm25_pos: NDArray[np.int64]

    @classmethod
    def build(cls, conn: Connection, generation: int, embed_model: str | None) -> RecallIndex:
        where, args = visible(conn)
        rows = conn.execute(
            "SELECT seq, scope, valid_from, valid_to, embedding, embed_model, tag FROM memories"
            f" WHERE forgotten_at IS NULL AND {where} ORDER BY seq",
            args,
        ).fetchall()
        n = len(rows)
        seqs = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
        scopes = np.fromiter((SCOPES.index(r[1]) for r in rows), dtype=np.int8, count=n)
        starts = np.fromiter((from_iso(r[2]).timestamp() for r in rows), np.float64, count=n)
        ends = np.fromiter(
            (from_iso(r[3]).timestamp() if r[3] else math.inf for r in rows), np.float64, count=n
        )
        keys = [(r[1], r[2], r[6]) for r in rows]
        changed = [i == 0 or keys[i] != keys[i - 1] for i in range(n)]
        runs = np.cumsum(np.asarray(changed, dtype=np.int64).reshape(n))
        usable = [bool(r[4]) and embed_model is not None and r[5] == embed_model for r in rows]
        has_vector = np.asarray(usable, dtype=np.bool_).reshape(n)
        dim = next((len(r[4]) // 4 for r, ok in zip(rows, usable, strict=True) if ok), 0)
        matrix = np.zeros((n, dim), dtype=np.float32)
        for i, row in enumerate(rows):
            if usable[i] and len(row[4]) == dim * 4:
                matrix[i] = np.frombuffer(row[4], dtype=np.float32)
        bm25 = build_bm25(conn, NAMES_WEIGHT)
        bm25_pos = np.full(len(bm25.rowids), -1, dtype=np.int64)
        if n:
            positions = np.minimum(np.searchsorted(seqs, bm25.rowids), n - 1)
            found = seqs[positions] == bm25.rowids
            bm25_pos[found] = positions[found]
        return cls(generation, seqs, scopes, starts, ends, runs, has_vector, matrix, bm25, bm25_pos)

    def mask(self, scope: str | None, at: float) -> Mask:
        """Rows valid at epoch second ``at`` and in ``scope`` (any scope if None)."""
        keep = (self.valid_from <= at) & (self.valid_to > at)
        if scope is not None:
            keep &= self.scopes == SCOPES.index(scope)
        return keep

    def lexical(self, terms: dict[str, float], keep: Mask) -> Scores:
        """BM25 score of every row for ``{term: weight}``; 0 outside ``keep``."""
        scores = np.zeros(len(self.seqs), dtype=np.float32)
        bm = self.bm25
        for term, weight in terms.items():
            t = bm.vocab.get(term)
            if t is None:
                continue
            lo, hi = bm.indptr[t], bm.indptr[t + 1]
            pos = self.bm25_pos[bm.docs[lo:hi]]
            ok = pos >= 0
            scores[pos[ok]] += bm.weights[lo:hi][ok] * (bm.idf[t] * weight)
        scores[~keep] = 0.0
        return scores

    def context(self, scores: Scores, keep: Mask) -> Scores:
        """``scores`` plus a share of the scores of run neighbours (see the module docstring)."""
        out = scores.copy()
        for distance in range(1, CONTEXT_WIDTH + 1):
            if distance >= len(scores):
                break
            same = self.runs[distance:] == self.runs[:-distance]
            share = np.float32(CONTEXT_WEIGHT / distance)
            out[distance:] += np.where(same, scores[:-distance], 0) * share
            out[:-distance] += np.where(same, scores[distance:], 0) * share
        out[~keep] = 0.0
        return out

    def dense(self, query: NDArray[np.float32], keep: Mask) -> Scores | None:
        """Cosine similarity of every row to ``query``; -inf outside ``keep``; None when the
        index has no vectors of the query's size."""
        if self.matrix.shape[1] != query.shape[-1] or not len(self.seqs):
            return None
        # einsum runs single-threaded: a BLAS matrix–vector product fans out to threads and
        # was 10–30x slower (up to 15 ms at 10k rows) whenever the other cores were busy.
        scores: Scores = np.einsum("ij,j->i", self.matrix, query.reshape(-1).astype(np.float32))
        scores[~(keep & self.has_vector)] = -np.inf
        return scores


def top(scores: Scores | None, limit: int, *, positive: bool) -> list[int]:
    """Row positions of the ``limit`` best scores, best first (only > 0 if ``positive``)."""
    if scores is None or limit <= 0:
        return []
    hit = np.flatnonzero(scores > 0) if positive else np.flatnonzero(np.isfinite(scores))
    if len(hit) == 0:
        return []
    if len(hit) > limit:
        hit = hit[np.argpartition(-scores[hit], limit - 1)[:limit]]
    return [int(i) for i in hit[np.argsort(-scores[hit], kind="stable")]]

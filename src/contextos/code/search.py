"""Hybrid code search: BM25 (chunks and whole files) + vectors + mentions, fused, then ranked.

Rankings fused with weighted reciprocal-rank fusion (``fusion.rrf``):
- ``file_bm25``: whole-file BM25 over code-aware tokens (``files_fts``);
- ``chunk_bm25``: chunk BM25, each file ranked by its best chunk;
- ``dense``: cosine similarity of chunk vectors, each file by its best chunk;
- ``mention``: files the query names by path, module, traceback frame or rare symbol.
Test files are down-weighted unless the query is about tests. Modes: ``hybrid`` uses all,
``lexical`` all but ``dense``, ``dense`` only ``dense``. File results (``files=True``) are the
fused file scores. Chunk results add a share of their file's score to their own, then go through
``rerank``: definitions of queried symbols, file names matching the query, path priors and
per-file diversity. Symbol queries (``Session``, ``Plug.Conn``) lean lexical.

Which data tuned what: the file-level weights on the localization dev split (issue texts);
``w_dense_chunks`` and ``RankKnobs.depth`` on the *tune* half of the code-search dev set (by
repository); every other ranking knob is semble's published value or a round default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from contextos.code.chunking.languages import PROSE_LANGUAGES
from contextos.code.graph import personalized_pagerank
from contextos.code.mentions import mention_scores
from contextos.code.query import parse_query, query_symbols
from contextos.code.rerank import (
    ChunkMeta,
    RankKnobs,
    boost_central_files,
    boost_definitions,
    boost_paths,
    diversify,
    path_prior,
)
from contextos.code.snapshots import Snapshots
from contextos.embed.protocol import Embedder
from contextos.retrieval.bm25 import query_weights
from contextos.retrieval.fusion import rrf, top_by_score
from contextos.store.db import Connection, rows_in
from contextos.types import FileHit, SearchHit, SearchMode

__all__ = ["Evidence", "SearchConfig", "fuse_files", "gather", "search", "weights_for"]


@dataclass(frozen=True, slots=True)
class SearchConfig:
    """Ranking knobs (see the module docstring for which data set each default).

    ``w_dense_chunks`` replaces ``w_dense`` for chunk results in hybrid mode: short queries
    gain more from the embedder than issue-length texts; ``symbol_dense_scale`` multiplies the
    dense weight when the whole query is one symbol; ``rank`` holds the ``rerank`` knobs.
    """

    rrf_k: float = 20.0
    w_file_bm25: float = 1.0
    w_chunk_bm25: float = 1.0
    w_dense: float = 0.25
    w_mention: float = 1.0
    test_penalty: float = 0.5
    prose_penalty: float = 0.1
    changelog_penalty: float = 1.0
    plain_word_weight: float = 0.0
    names_weight: float = 2.0
    max_terms: int = 32
    candidates: int = 400
    chunk_file_weight: float = 0.5
    w_dense_chunks: float = 0.5
    symbol_dense_scale: float = 0.5
    rank: RankKnobs = field(default_factory=RankKnobs)


def weights_for(config: SearchConfig, mode: SearchMode) -> dict[str, float]:
    weights = {
        "file_bm25": config.w_file_bm25,
        "chunk_bm25": config.w_chunk_bm25,
        "dense": config.w_dense,
        "mention": config.w_mention,
    }
    if mode == "lexical":
        weights["dense"] = 0.0
    elif mode == "dense":
        weights = {"dense": 1.0}
    return weights


def _files_by_best_chunk(chunk_rank: list[int], chunk_path: dict[int, str]) -> list[str]:
    seen: dict[str, None] = {}
    for cid in chunk_rank:
        seen.setdefault(chunk_path[cid], None)
    return list(seen)


@dataclass(slots=True)
class Evidence:
    """Everything ranking needs, read from the index once per query: per-ranking chunk and
    file orders, chunk → path, and each candidate file's kind (is_test, language)."""

    about_tests: bool
    chunk_rankings: dict[str, list[int]]
    file_rankings: dict[str, list[str]]
    chunk_path: dict[int, str]
    kinds: dict[str, tuple[bool, str]]


def gather(
    conn: Connection,
    snapshots: Snapshots,
    embedder: Embedder | None,
    query: str,
    cfg: SearchConfig,
    weights: dict[str, float],
) -> Evidence:
    """Run every ranking with a non-zero weight."""
    parsed = parse_query(query)
    chunk_hits: dict[str, list[tuple[int, float]]] = {}
    if weights.get("chunk_bm25"):
        index = snapshots.bm25(conn, "chunks", cfg.names_weight)
        terms = query_weights(parsed.tokens, index, cfg.max_terms)
        chunk_hits["chunk_bm25"] = index.search(terms, cfg.candidates)
    if weights.get("dense") and embedder is not None:
        qvec = embedder.embed_batch([query])[0]
        chunk_hits["dense"] = snapshots.vector_index(conn).search(conn, qvec, cfg.candidates)
    places = _chunk_places(conn, {cid for hits in chunk_hits.values() for cid, _ in hits})
    chunk_path = {cid: place[0] for cid, place in places.items()}
    # equal scores are ordered by place, not by row id: row ids record indexing history
    chunk_rankings = {
        name: [
            cid
            for cid, _ in sorted(hits, key=lambda h: (-h[1], places.get(h[0], ("", 0))))
            if cid in places
        ]
        for name, hits in chunk_hits.items()
    }
    file_rankings = {
        name: _files_by_best_chunk(ranking, chunk_path) for name, ranking in chunk_rankings.items()
    }
    if weights.get("file_bm25"):
        index = snapshots.bm25(conn, "files", cfg.names_weight)
        hits = index.search(query_weights(parsed.tokens, index, cfg.max_terms), cfg.candidates)
        id_path = _file_paths(conn, [fid for fid, _ in hits])
        ordered = sorted((-score, id_path[fid]) for fid, score in hits if fid in id_path)
        file_rankings["file_bm25"] = [path for _, path in ordered]
    if weights.get("mention"):
        all_paths = [r[0] for r in conn.execute("SELECT path FROM files ORDER BY path")]
        mentions = mention_scores(conn, parsed, all_paths, cfg.plain_word_weight)
        file_rankings["mention"] = top_by_score(mentions, cfg.candidates)
    candidates = {p for r in file_rankings.values() for p in r}
    return Evidence(
        parsed.about_tests, chunk_rankings, file_rankings, chunk_path, _kinds(conn, candidates)
    )


def fuse_files(
    evidence: Evidence, weights: dict[str, float], cfg: SearchConfig
) -> dict[str, float]:
    """Fused file scores with priors applied. Pure: no I/O."""
    scores = rrf(evidence.file_rankings, weights, cfg.rrf_k)
    for path in scores:
        is_test, language = evidence.kinds.get(path, (False, "text"))
        factor = 1.0
        if is_test and not evidence.about_tests:
            factor *= cfg.test_penalty
        if language in PROSE_LANGUAGES:
            factor *= cfg.prose_penalty
        if _CHANGELOG.search(path):
            factor *= cfg.changelog_penalty
        scores[path] *= factor
    return scores


def search(
    conn: Connection,
    snapshots: Snapshots,
    embedder: Embedder | None,
    query: str,
    *,
    k: int = 10,
    files: bool = False,
    mode: SearchMode = "hybrid",
    config: SearchConfig | None = None,
) -> list[SearchHit] | list[FileHit]:
    """Rank chunks (or files) of the index for ``query``; see the module docstring."""
    cfg = config or SearchConfig()
    if k > cfg.candidates:  # every ranking must reach that deep
        cfg = replace(cfg, candidates=k)
    if embedder is None and mode != "lexical":
        cfg = replace(cfg, w_dense=0.0)
        mode = "lexical" if mode == "hybrid" else mode
    names, symbol_query = query_symbols(query)
    weights = weights_for(cfg, mode)
    if mode == "hybrid" and not files:
        weights["dense"] = cfg.w_dense_chunks
    if symbol_query and mode == "hybrid":
        weights["dense"] *= cfg.symbol_dense_scale
    evidence = gather(conn, snapshots, embedder, query, cfg, weights)
    file_scores = fuse_files(evidence, weights, cfg)
    chunk_scores = rrf(evidence.chunk_rankings, weights, cfg.rrf_k)
    if files:
        return _file_hits(conn, file_scores, chunk_scores, evidence.chunk_path, k)
    ranked = _rank_chunks(
        conn, snapshots, query, names, symbol_query, evidence, file_scores, chunk_scores, cfg, k
    )
    return _load_hits(conn, ranked)


def _chunk_places(conn: Connection, ids: set[int]) -> dict[int, tuple[str, int]]:
    """``{chunk id: (path, start line)}``."""
    sql = "SELECT id, path, start_line FROM chunks WHERE id IN ({marks})"
    return {int(cid): (path, int(line)) for cid, path, line in rows_in(conn, sql, list(ids))}


def _file_paths(conn: Connection, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return dict(conn.execute(f"SELECT id, path FROM files WHERE id IN ({marks})", ids).fetchall())


_CHANGELOG = re.compile(
    r"(^|/)(changes|changelog|history|news|whatsnew|release[-_]?notes)([./_-]|$)", re.IGNORECASE
)


def _kinds(conn: Connection, paths: set[str]) -> dict[str, tuple[bool, str]]:
    sql = "SELECT path, is_test, language FROM files WHERE path IN ({marks})"
    return {
        path: (bool(is_test), language)
        for path, is_test, language in rows_in(conn, sql, list(paths))
    }


def _load_hits(conn: Connection, scored: list[tuple[int, float]]) -> list[SearchHit]:
    if not scored:
        return []
    marks = ",".join("?" * len(scored))
    rows = {
        r["id"]: r
        for r in conn.execute(
            f"SELECT id, path, start_line, end_line, symbol, kind, language, text FROM chunks"
            f" WHERE id IN ({marks})",
            [cid for cid, _ in scored],
        )
    }
    return [
        SearchHit(
            path=rows[cid]["path"],
            start_line=rows[cid]["start_line"],
            end_line=rows[cid]["end_line"],
            score=round(score, 6),
            symbol=rows[cid]["symbol"],
            kind=rows[cid]["kind"],
            language=rows[cid]["language"],
            text=rows[cid]["text"],
        )
        for cid, score in scored
        if cid in rows
    ]


def _rank_chunks(
    conn: Connection,
    snapshots: Snapshots,
    query: str,
    names: list[str],
    symbol_query: bool,
    evidence: Evidence,
    file_scores: dict[str, float],
    chunk_scores: dict[int, float],
    cfg: SearchConfig,
    k: int,
) -> list[tuple[int, float]]:
    """Chunks by their own fused score plus a share of their file's score, then the steps of
    ``rerank``: definitions, path words, path priors, per-file diversity."""
    path_of = evidence.chunk_path
    scores = {
        cid: score + cfg.chunk_file_weight * file_scores.get(path_of.get(cid, ""), 0.0)
        for cid, score in chunk_scores.items()
    }
    if not scores and file_scores:  # only mentions matched: show the files' first chunks
        for path in top_by_score(file_scores, k):
            row = conn.execute(
                "SELECT id FROM chunks WHERE path = ? ORDER BY start_line LIMIT 1", (path,)
            ).fetchone()
            if row:
                scores[int(row[0])] = file_scores[path]
    knobs = cfg.rank
    scores = {cid: scores[cid] for cid in top_by_score(scores, max(k, knobs.depth))}
    defining = _defining_chunks(conn, names)
    meta = _chunk_meta(conn, set(scores) | set(defining))
    paths = {cid: m.path for cid, m in meta.items()}
    if knobs.graph:
        seeds: dict[str, float] = {}
        for cid, score in scores.items():
            seeds[paths.get(cid, "")] = seeds.get(paths.get(cid, ""), 0.0) + score
        rank = personalized_pagerank(snapshots.graph(conn), seeds)
        boost_central_files(scores, paths, rank, knobs)
    boost_definitions(
        scores,
        {c: meta[c] for c in defining if c in meta},
        names,
        symbol_query=symbol_query,
        knobs=knobs,
    )
    if not symbol_query:
        boost_paths(scores, meta, query, knobs)
    for cid in scores:
        m = meta.get(cid)
        if m is not None:
            scores[cid] *= path_prior(m, evidence.about_tests, knobs)
    return diversify(scores, meta, k, knobs.saturation)


def _defining_chunks(conn: Connection, names: list[str]) -> list[int]:
    """Ids of the chunks defining one of ``names`` (the last part of their symbol)."""
    if not names:
        return []
    marks = ",".join("?" * len(names))
    rows = conn.execute(
        f"SELECT chunk_id FROM symbols WHERE name IN ({marks}) ORDER BY name, chunk_id LIMIT 200",
        names,
    ).fetchall()
    return [int(r[0]) for r in rows]


def _chunk_meta(conn: Connection, ids: set[int]) -> dict[int, ChunkMeta]:
    sql = (
        "SELECT c.id, c.path, c.start_line, c.symbol, c.kind, f.is_test, f.language"
        " FROM chunks c JOIN files f ON f.path = c.path WHERE c.id IN ({marks})"
    )
    return {
        int(cid): ChunkMeta(path, int(line), symbol, kind, bool(is_test), language)
        for cid, path, line, symbol, kind, is_test, language in rows_in(conn, sql, list(ids))
    }


def _file_hits(
    conn: Connection,
    file_scores: dict[str, float],
    chunk_scores: dict[int, float],
    chunk_path: dict[int, str],
    k: int,
) -> list[FileHit]:
    """Files by fused score, each with its (up to three) best chunks."""
    best_files = top_by_score(file_scores, k)
    per_file: dict[str, list[tuple[int, float]]] = {p: [] for p in best_files}
    for cid in top_by_score(chunk_scores, len(chunk_scores)):
        path = chunk_path.get(cid)
        if path in per_file and len(per_file[path]) < 3:
            per_file[path].append((cid, chunk_scores[cid]))
    return [
        FileHit(path=p, score=round(file_scores[p], 6), chunks=_load_hits(conn, per_file[p]))
        for p in best_files
    ]

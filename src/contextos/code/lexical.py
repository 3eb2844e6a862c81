"""BM25 over SQLite FTS5 tables of code-aware tokens.

Long queries (an issue text) are reduced to their most informative terms first: terms absent
from the index are dropped, and at most ``max_terms`` are kept, ranked by IDF times the log of
their frequency in the query. Repeated terms are kept repeated (up to 3 times) because FTS5's
``bm25()`` sums over the phrases of the query, which gives them query-frequency weight.
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter

__all__ = ["bm25_search", "select_terms"]

_TABLES = {"chunks": ("chunks_fts", "chunks_vocab"), "files": ("files_fts", "files_vocab")}


def select_terms(
    conn: sqlite3.Connection, table: str, tokens: list[str], max_terms: int
) -> list[tuple[str, int]]:
    """``[(term, repeat)]`` to search for, best first."""
    _, vocab = _TABLES[table]
    tf = Counter(tokens)
    total = int(conn.execute(f"SELECT COUNT(*) FROM {_TABLES[table][0]}").fetchone()[0]) or 1
    scored: list[tuple[float, str, int]] = []
    for term, count in tf.items():
        row = conn.execute(f"SELECT doc FROM {vocab} WHERE term = ?", (term,)).fetchone()
        if row is None:
            continue
        df = int(row[0])
        idf = math.log(1 + (total - df + 0.5) / (df + 0.5))
        scored.append((idf * (1 + math.log(count)), term, min(count, 3)))
    scored.sort(key=lambda item: -item[0])
    return [(term, repeat) for _, term, repeat in scored[:max_terms]]


def bm25_search(
    conn: sqlite3.Connection,
    table: str,
    terms: list[tuple[str, int]],
    limit: int,
    names_weight: float = 2.0,
) -> list[tuple[int, float]]:
    """``[(rowid, score)]`` best first; score is positive (FTS5's bm25 negated)."""
    if not terms:
        return []
    fts, _ = _TABLES[table]
    expr = " OR ".join(f'"{term}"' for term, repeat in terms for _ in range(repeat))
    sql = (
        f"SELECT rowid, bm25({fts}, 1.0, ?) AS s FROM {fts} WHERE {fts} MATCH ? ORDER BY s LIMIT ?"
    )
    return [(int(r[0]), -float(r[1])) for r in conn.execute(sql, (names_weight, expr, limit))]

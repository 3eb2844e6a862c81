"""The code index suites again, on PostgreSQL: with ``CONTEXTOS_DATABASE_URL`` set, every
``Workspace`` opened without an explicit ``db_path`` keeps its index in the team database
(``<prefix>_code_<hash of the root>``), and indexing, incremental re-indexing and search must
answer exactly as on SQLite. The tests are the SQLite suites' own functions, collected here a
second time under an autouse fixture that points the workspace at a real embedded server (a
fresh schema prefix per test); tests that pass a ``db_path`` stay on SQLite by design.

Left out: ``tests/test_index_faults.py`` (a killed writer and damaged or read-only files are
SQLite file behaviours; the PostgreSQL faults are in ``tests/test_pg_faults.py``).
"""

from __future__ import annotations

import pytest

from tests.test_index import *  # noqa: F403
from tests.test_search import *  # noqa: F403
from tests.test_search_incremental import *  # noqa: F403


@pytest.fixture(autouse=True)
def code_index_on_postgres(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CONTEXTOS_DATABASE_URL", database_url)
    return database_url


def test_the_index_really_is_in_postgresql(make_repo, database_url: str) -> None:  # type: ignore[no-untyped-def]
    from contextos import Workspace
    from contextos.store.pg import PgDatabase

    repo = make_repo({"a.py": "def alpha():\n    return 1\n"})
    with Workspace(repo, embedder=None) as ws:
        ws.index()
        assert isinstance(ws.conn, PgDatabase)
        assert ws.conn.schema.endswith("_code_" + ws.conn.schema.rsplit("_", 1)[-1])
        assert [h.path for h in ws.search("alpha", 1)] == ["a.py"]


def test_a_large_index_is_searched_through_pgvector_hnsw(
    make_repo, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from contextos import Workspace
    from contextos.code import pgvectors
    from tests.conftest import HashingEmbedder

    files = {
        f"pkg/mod{i}.py": f"def handler_{i}(request):\n    return request.get('field_{i}')\n"
        for i in range(30)
    }
    repo = make_repo(files)
    with Workspace(repo, embedder=HashingEmbedder()) as exact:
        exact.index()
        expected = [
            (h.path, h.start_line) for h in exact.search("handler_7 request", 5, mode="dense")
        ]
        assert not pgvectors.uses_ann(exact.conn, 64)  # type: ignore[arg-type]
    monkeypatch.setattr(pgvectors, "ANN_MIN_CHUNKS", 1)
    with Workspace(repo, embedder=HashingEmbedder()) as ws:
        ws.index()
        assert pgvectors.uses_ann(ws.conn, 64)  # type: ignore[arg-type]
        mirrored = ws.conn.execute(
            "SELECT COUNT(*) FROM chunks WHERE embedding IS NOT NULL"
        ).fetchone()[0]
        assert mirrored == ws.status()["embedded_chunks"]
        got = [(h.path, h.start_line) for h in ws.search("handler_7 request", 5, mode="dense")]
        assert got[0] == expected[0] == ("pkg/mod7.py", 1)
        assert len(set(got) & set(expected)) >= 3  # approximate: most of the exact top 5
        ws.conn.execute("UPDATE chunks SET vector = vector")  # re-embedded: mirror is stale
        assert (
            ws.conn.execute("SELECT COUNT(*) FROM chunks WHERE embedding IS NOT NULL").fetchone()[0]
            == 0
        )


def test_code_search_ranks_the_same_on_both_backends(
    tmp_path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """This repository's own source, indexed on SQLite and on PostgreSQL: every query returns
    the same chunks and files with the same scores, to the last bit."""
    import shutil
    from pathlib import Path

    from contextos import Workspace
    from tests.conftest import HashingEmbedder

    tree = tmp_path / "src"
    shutil.copytree(Path(__file__).resolve().parents[1] / "src" / "contextos", tree / "contextos")
    queries = [
        "how are memories recalled for a user",
        "PgDatabase transaction advisory lock",
        "rewrite sqlite statements for postgres",
        "token bucket rate limit per token",
        "chunk a python file along definitions",
        "reciprocal rank fusion",
        "def embed_batch",
        "secrets redaction in indexed files",
    ]

    def answers() -> list[object]:
        out: list[object] = []
        with Workspace(tree, embedder=HashingEmbedder()) as ws:
            ws.index()
            for q in queries:
                for mode in ("hybrid", "lexical"):
                    out.append(
                        [(h.path, h.start_line, h.score) for h in ws.search(q, 10, mode=mode)]
                    )
                    hits = ws.search(q, 10, files=True, mode=mode)
                    out.append([(h.path, h.score) for h in hits])
        return out

    on_postgres = answers()
    monkeypatch.delenv("CONTEXTOS_DATABASE_URL")
    assert answers() == on_postgres

"""The team's shared chunk vectors: ``contextos index --push`` on one machine, reuse on another.

A real PostgreSQL with pgvector (the ``database_url`` fixture), real indexes, and an embedder
that counts the texts it is asked for: a second machine indexing the same code asks the model
for nothing, one changed file costs only its own chunks, and what search sees is identical.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from contextos import Workspace
from contextos.code.push import index_vectors, push_vectors
from contextos.embed.cache import CachedEmbedder
from contextos.embed.shared import SharedVectors
from tests.conftest import HashingEmbedder, RepoMaker

FILES = {
    "billing/invoice.py": (
        "class Invoice:\n    def total(self, lines):\n        return sum(x.amount for x in lines)\n"
    ),
    "billing/tax.py": (
        "def vat(amount, rate=0.2):\n    return amount * rate\n\n\n"
        "def net(amount):\n    return amount - vat(amount)\n"
    ),
    "web/routes.py": (
        "def checkout(request):\n    invoice = Invoice()\n    return invoice.total(request.lines)\n"
    ),
}


class CountingEmbedder(HashingEmbedder):
    """``HashingEmbedder`` that also counts texts (the model's work)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts = 0

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += len(texts)
        return super().embed_batch(texts)


def _machine(
    root: Path, home: Path, shared: SharedVectors | None
) -> tuple[Workspace, CountingEmbedder]:
    model = CountingEmbedder()
    cached = CachedEmbedder(model, home / "cache.sqlite3", shared=shared)
    return Workspace(root, db_path=home / "index.db", embedder=cached), model


def test_a_second_machine_reuses_every_pushed_vector(
    make_repo: RepoMaker, tmp_path: Path, database_url: str
) -> None:
    repo = make_repo(FILES)
    shared = SharedVectors.open(database_url)
    ci, ci_model = _machine(repo, tmp_path / "ci", None)
    with ci:
        ci.index()
        pushed = push_vectors(ci.conn, shared)
        again = push_vectors(ci.conn, shared)
        _, ci_vectors = index_vectors(ci.conn)
    assert pushed.pushed == len(ci_vectors) > 0 and ci_model.texts == len(ci_vectors)
    assert again.pushed == 0 and again.already_shared == pushed.pushed  # idempotent

    laptop, laptop_model = _machine(repo, tmp_path / "laptop", SharedVectors.open(database_url))
    with laptop:
        laptop.index()
        asked = laptop_model.texts
        _, laptop_vectors = index_vectors(laptop.conn)
        hits = laptop.search("invoice total", 5)
    assert asked == 0  # indexing never asked the model (the query is embedded, as always)
    assert dict((k, v.tobytes()) for k, v in laptop_vectors) == dict(
        (k, v.tobytes()) for k, v in ci_vectors
    )  # bit-identical vectors
    alone, _ = _machine(repo, tmp_path / "alone", None)
    with alone:
        alone.index()
        assert [(h.path, h.start_line) for h in alone.search("invoice total", 5)] == [
            (h.path, h.start_line) for h in hits
        ]
    shared.close()


def test_a_nearby_commit_embeds_only_the_changed_chunks(
    make_repo: RepoMaker, tmp_path: Path, database_url: str
) -> None:
    repo = make_repo(FILES)
    shared = SharedVectors.open(database_url)
    ci, _ = _machine(repo, tmp_path / "ci", None)
    with ci:
        ci.index()
        push_vectors(ci.conn, shared)
    (repo / "billing" / "tax.py").write_text(
        "def vat(amount, rate=0.25):\n    return amount * rate\n"
    )
    laptop, model = _machine(repo, tmp_path / "laptop", shared)
    with laptop:
        summary = laptop.index()
        changed = [
            c
            for c in laptop.conn.execute("SELECT path FROM chunks").fetchall()
            if c[0] == "billing/tax.py"
        ]
    assert 0 < model.texts <= len(changed) < summary.chunks_total


def test_vectors_round_trip_bit_identical_through_pgvector(database_url: str) -> None:
    shared = SharedVectors.open(database_url)
    rng = np.random.default_rng(7)
    vectors = {
        hashlib.sha256(str(i).encode()).digest(): rng.standard_normal(384).astype(np.float32)
        for i in range(50)
    }
    shared.put("m", vectors.items())
    back = shared.get("m", list(vectors))
    assert all(back[k].tobytes() == v.tobytes() for k, v in vectors.items())
    assert shared.get("other-model", list(vectors)) == {}
    shared.close()


def test_push_without_a_team_database_is_one_clear_line(make_repo: RepoMaker) -> None:
    repo = make_repo(FILES)
    done = subprocess.run(
        [sys.executable, "-m", "contextos", "index", str(repo), "--push"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert done.returncode == 2
    assert "CONTEXTOS_DATABASE_URL" in done.stderr and "Traceback" not in done.stderr


def test_pushing_an_index_without_vectors_is_one_clear_line(
    make_repo: RepoMaker, database_url: str
) -> None:
    repo = make_repo(FILES)
    done = subprocess.run(
        [sys.executable, "-m", "contextos", "index", str(repo), "--push", "--json"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
        env={
            **__import__("os").environ,
            "CONTEXTOS_DATABASE_URL": database_url,
            "CONTEXTOS_EMBEDDER": "none",
        },
    )
    # an index without vectors has nothing to push: a user error, said in one line
    assert done.returncode == 2, done.stderr
    assert "no vectors to push" in done.stderr and "Traceback" not in done.stderr

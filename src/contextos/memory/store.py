"""``MemoryStore``: the long-term memory of one user, in one SQLite file.

Writes (``remember``, ``add_many``, ``edit``, ``forget``) embed outside the lock, then commit the
rows, their lexical tokens and their history in one ``BEGIN IMMEDIATE`` transaction, so
concurrent processes serialise cleanly and a crash leaves no half-written memory. ``recall`` reads
an in-memory snapshot (``index.RecallIndex``) that is rebuilt when any process's write bumps the
database generation. Memory text returned by recall is data quoted from storage, never
instructions: callers must present it to models as such.

The model pipeline (``jobs.ExtractionQueue``), consolidation and export/import are separate
modules that work through this class. Left out: sharing one store between machines (export and
import are the portable path).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from contextos.embed.protocol import Embedder
from contextos.errors import UserInputError
from contextos.home import memory_db_path
from contextos.llm.protocol import LLM
from contextos.memory import versions
from contextos.memory.index import RecallIndex
from contextos.memory.ingest import backfill_embeddings, build_memory, embed_memories
from contextos.memory.recall import RecallConfig, rank, sub_queries
from contextos.memory.records import (
    HistoryEntry,
    Memory,
    RecallHit,
    check_scope,
    now_utc,
    to_utc,
)
from contextos.memory.sql import COLUMNS, Scoped, fetch_many, require, row_to_memory, visible
from contextos.store.db import Closing, Connection, connect, generation, transaction

__all__ = ["MemoryStore"]

_ADD_KEYS = frozenset({"text", "tag", "scope", "source", "valid_from", "score"})


class MemoryStore(Closing):
    """Open with ``MemoryStore.open()``; use as a context manager or call ``close()``."""

    def __init__(
        self,
        conn: Connection,
        path: Path | str,
        embedder: Embedder | None,
        llm: LLM | None,
        config: RecallConfig,
        *,
        owner: str = "",
    ) -> None:
        self._conn = Scoped(conn, owner)
        self.path = path
        self.owner = owner
        self.embedder = embedder
        self.llm = llm
        self.config = config
        self._snapshot: RecallIndex | None = None

    @classmethod
    def open(
        cls,
        path: Path | None = None,
        *,
        embedder: Embedder | None = None,
        llm: LLM | None = None,
        config: RecallConfig | None = None,
        database_url: str | None = None,
        owner: str | None = None,
    ) -> MemoryStore:
        """Open (creating and migrating) the store: the PostgreSQL database ``database_url``
        (default the ``database_url`` setting) when set, else the SQLite file ``path``
        (default ``home.memory_db_path()``).

        ``owner`` is the user whose ``user``-scoped memories this store reads and writes
        (default: ``""`` on SQLite, the login name on PostgreSQL). ``embedder`` None means
        lexical-only recall. With an embedder, memories stored without a vector (or with
        another model's) are embedded now, once.
        """
        from contextos.memory.schema import MIGRATIONS
        from contextos.store.backends import open_pg, team_url

        url = team_url(path, database_url)
        rest = (embedder, llm, config or RecallConfig())
        if url:
            conn = open_pg(url, "memory")
            store = cls(conn, conn.schema, *rest, owner=owner if owner is not None else _login())
        else:
            target = path if path is not None else memory_db_path()
            target.parent.mkdir(parents=True, exist_ok=True)
            store = cls(connect(target, MIGRATIONS), target, *rest, owner=owner or "")
        if embedder is not None:
            backfill_embeddings(store.connection, embedder)
        return store

    @property
    def connection(self) -> Connection:
        """The underlying connection, for the package's pipeline and portability modules."""
        return self._conn

    @property
    def embed_model(self) -> str | None:
        return self.embedder.name if self.embedder is not None else None

    def as_owner(self, owner: str) -> MemoryStore:
        """The same database seen (and written) as ``owner``; closing it closes this one."""
        if owner == self.owner:
            return self
        return type(self)(
            self._conn.unscoped, self.path, self.embedder, self.llm, self.config, owner=owner
        )

    def close(self) -> None:
        self._conn.close()
        self._snapshot = None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with transaction(self._conn) as conn:
            yield conn

    def embed(self, memories: Sequence[Memory]) -> list[Memory]:
        """``memories`` with embeddings (unchanged when the store is lexical-only)."""
        return embed_memories(self.embedder, memories)

    def remember(
        self,
        text: str,
        *,
        tag: str | None = None,
        scope: str = "user",
        source: str | None = None,
        valid_from: datetime | None = None,
        score: int = 5,
    ) -> Memory:
        """Store one explicit memory (no model). Text holding a secret is refused; the same
        text already current in ``scope`` is returned instead of stored twice."""
        memory = build_memory(text, tag, scope, source, valid_from, score, secrets="refuse")
        existing = versions.find_duplicate(self._conn, memory.text, memory.scope)
        if existing is not None:
            return existing
        (memory,) = self.embed([memory])
        with self.transaction() as conn:
            existing = versions.find_duplicate(conn, memory.text, memory.scope)
            if existing is not None:
                return existing
            versions.add(conn, [memory], embed_model=self.embed_model, reason="remembered")
        return memory

    def add_many(self, items: Sequence[Mapping[str, Any]]) -> list[Memory]:
        """Bulk ingest without a model and without de-duplication: all items are validated
        first (secrets redacted), embedded in batches, and committed in one transaction."""
        memories: list[Memory] = []
        for i, item in enumerate(items):
            unknown = set(item) - _ADD_KEYS
            if unknown or "text" not in item:
                raise UserInputError(
                    f"item {i}: keys must be among {sorted(_ADD_KEYS)} and include 'text'"
                )
            memories.append(
                build_memory(
                    item["text"],
                    item.get("tag"),
                    item.get("scope", "user"),
                    item.get("source"),
                    item.get("valid_from"),
                    item.get("score", 5),
                    secrets="redact",
                )
            )
        memories = self.embed(memories)
        with self.transaction() as conn:
            versions.add(conn, memories, embed_model=self.embed_model, reason="bulk ingest")
        return memories

    def recall(
        self,
        query: str,
        *,
        scope: str | None = None,
        k: int = 8,
        as_of: datetime | None = None,
        expand: bool | None = None,
    ) -> list[RecallHit]:
        """The ``k`` memories most relevant to ``query`` among those valid at ``as_of``
        (default now) in ``scope`` (default all). With a model (and ``expand`` not False) 2–4
        model-written sub-queries are searched too."""
        query = query.strip()
        if not query:
            raise UserInputError("empty query: say what to recall")
        if k < 1:
            raise UserInputError(f"k must be at least 1, got {k}")
        if scope is not None:
            check_scope(scope)
        queries = [query]
        if self.llm is not None and expand is not False:
            queries += sub_queries(self.llm, query)
        index = self._index()
        keep = index.mask(scope, to_utc(as_of or now_utc()).timestamp())
        vectors = None
        if self.embedder is not None and bool(index.has_vector.any()):
            vectors = self.embedder.embed_batch(queries)
        ranked = rank(index, queries, vectors, keep, k, self.config)
        found = fetch_many(self._conn, [seq for seq, _ in ranked])
        return [RecallHit(found[seq], score) for seq, score in ranked if seq in found]

    def _index(self) -> RecallIndex:
        snapshot = self._snapshot
        if snapshot is not None and snapshot.generation == generation(self._conn):
            return snapshot  # one statement, no transaction: the common case
        with transaction(self._conn, immediate=False) as conn:
            gen = generation(conn)
            if self._snapshot is None or self._snapshot.generation != gen:
                self._snapshot = RecallIndex.build(conn, gen, self.embed_model)
        return self._snapshot

    def get(self, memory_id: str) -> Memory:
        """The memory ``memory_id`` (any version); ``UserInputError`` if unknown."""
        return require(self._conn, memory_id)

    def memories(
        self,
        *,
        scope: str | None = None,
        tag: str | None = None,
        include_closed: bool = False,
    ) -> list[Memory]:
        """Memories, oldest first: current ones, or every version with ``include_closed``."""
        where = ["1 = 1"] if include_closed else ["valid_to IS NULL", "forgotten_at IS NULL"]
        args: list[str] = []
        if scope is not None:
            where.append("scope = ?")
            args.append(check_scope(scope))
        if tag is not None:
            where.append("tag = ?")
            args.append(tag)
        visible_to, owner = visible(self._conn)
        where.append(visible_to)
        args.extend(owner)
        sql = f"SELECT {COLUMNS} FROM memories WHERE {' AND '.join(where)} ORDER BY seq"
        return [row_to_memory(r) for r in self._conn.execute(sql, args)]

    def edit(self, memory_id: str, text: str, *, tag: str | None = None) -> Memory:
        """Write a new version of a current memory (the old one stays, closed, in history)."""
        old = self.get(memory_id)
        new = build_memory(text, tag or old.tag, old.scope, old.source, None, old.score)
        (new,) = self.embed([new])
        with self.transaction() as conn:
            versions.supersede(
                conn, memory_id, new, action="UPDATE", reason="edited", embed_model=self.embed_model
            )
        return new

    def forget(self, memory_id: str, *, reason: str = "forgotten on request") -> Memory:
        """Stop recalling a memory, for good. Logged; the row itself is kept."""
        with self.transaction() as conn:
            return versions.forget(conn, memory_id, reason)

    def history(self, memory_id: str) -> list[HistoryEntry]:
        """Every change to ``memory_id`` and to its earlier and later versions."""
        return versions.history(self._conn, memory_id)

    def similar(self, text: str, scope: str, k: int = 5) -> list[Memory]:
        """Current memories most like ``text`` (for the update step and consolidation)."""
        return [h.memory for h in self.recall(text, scope=scope, k=k, expand=False)]


def _login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"

"""``Workspace``: the library's front door for one repository.

    ws = Workspace(Path("."))
    ws.index()                       # incremental, crash-safe
    ws.search("parse config", k=10)  # -> list[SearchHit]
    ws.search("...", files=True)     # -> list[FileHit]

A workspace owns one SQLite database under ``$CONTEXTOS_HOME/workspaces`` (or ``db_path``), or
with ``database_url`` set its own schema in the team's PostgreSQL (the same statements: see
``store.pg``), and resolves its embedder lazily, once, on first need. It never prints;
warnings are collected in ``warnings`` for the caller to show.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

from contextos.code.indexer import Progress, run_index, verify_index
from contextos.code.schema import MIGRATIONS
from contextos.code.search import SearchConfig, search
from contextos.code.snapshots import Snapshots
from contextos.embed.protocol import Embedder
from contextos.errors import UserInputError
from contextos.home import workspace_db_path
from contextos.paths import confine, workspace_root
from contextos.settings import Settings, load_settings
from contextos.store.db import Closing, Connection, connect
from contextos.store.pg import PgDatabase, redact_url
from contextos.types import FileHit, IndexSummary, SearchHit, SearchMode

if TYPE_CHECKING:
    from contextos.embed.resolve import BuildMode

__all__ = ["Workspace"]

_MAX_QUERY_CHARS = 100_000


class Workspace(Closing):
    """One indexed repository. Thread-compatible, not thread-safe: one per thread."""

    def __init__(
        self,
        root: Path | str,
        settings: Settings | None = None,
        *,
        db_path: Path | None = None,
        embedder: Embedder | Literal["auto"] | None = "auto",
    ) -> None:
        self.root = workspace_root(root)
        self.warnings: list[str] = []
        self.settings = settings or load_settings(self.root, warnings=self.warnings)
        self.db_path = db_path or workspace_db_path(self.root)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._conn: Connection | None = self._open(db_path)
        if isinstance(self._conn, PgDatabase):  # lock and snapshot caches: one set per schema
            name = f"{self.db_path.stem}-{self._conn.schema}{self.db_path.suffix}"
            self.db_path = self.db_path.with_name(name)
        self._snapshots = Snapshots(self.db_path)
        self._embedder: Embedder | None = None
        self._embedder_resolved = embedder != "auto"
        self._build_started = False
        if embedder != "auto":
            self._embedder = embedder

    def _open(self, db_path: Path | None) -> Connection:
        """The SQLite file, or with ``database_url`` set (and no explicit ``db_path``) this
        workspace's schema in the team database, ``<prefix>_code_<hash of the root path>``;
        ``db_path`` then only names the local lock and snapshot cache files."""
        url = self.settings.database_url
        if url and db_path is None:
            from contextos.store.backends import open_pg

            key = hashlib.sha1(str(self.root).encode()).hexdigest()[:12]
            return open_pg(url, "code", instance=key)
        return connect(self.db_path, MIGRATIONS)

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise UserInputError("workspace is closed")
        return self._conn

    def embedder(
        self, progress: Progress | None = None, *, build: BuildMode = "wait"
    ) -> Embedder | None:
        """The embedder, resolved once (``build`` says whether to wait for a model build; see
        ``resolve_embedder``; the model sits behind the embedding cache). While the model is
        still pending, later calls look again, but only on disk: the hub probe and the build
        start of ``"background"`` happen once per workspace, not on every search."""
        if not self._embedder_resolved:
            from contextos.embed.resolve import model_pending, open_embedder

            if build == "background" and self._build_started:
                build = "no"
            embedder, warnings = open_embedder(self.settings, progress=progress, build=build)
            self.warnings.extend(w for w in warnings if w not in self.warnings)
            if embedder is None and (
                build == "no" or (build == "background" and model_pending(self.settings))
            ):
                self._build_started = self._build_started or build == "background"
                return None  # not yet: ask again next time
            self._embedder = embedder
            self._embedder_resolved = True
        return self._embedder

    def model_pending(self) -> bool:
        """True while searches are lexical because the embedding model is still being built."""
        from contextos.embed.resolve import model_pending

        return not self._embedder_resolved and model_pending(self.settings)

    def index(
        self,
        progress: Progress | None = None,
        *,
        model: BuildMode = "wait",
        should_stop: Callable[[], bool] | None = None,
        embed: bool = True,
    ) -> IndexSummary:
        """Bring the index up to date with the files on disk.

        Nothing waits for the embedding model: if it still has to be built, the build starts in
        the background and the files are indexed lexically first (searchable at once); then,
        with ``model="wait"``, the build is awaited and the chunks are embedded.
        ``"background"`` returns after the lexical pass; ``"no"`` never starts a build. A
        ``should_stop`` that turns true stops the run between batches (``IndexCancelled``);
        what was committed stays consistent. ``embed=False`` is a lexical pass only: new chunks
        get no vector yet and existing vectors are kept (the next run embeds the rest).
        """
        embedder = self.embedder(progress, build="no" if model == "no" else "background")
        summary = self._run(embedder, progress, should_stop, embed=embed)
        if embed and embedder is None and model == "wait" and self.model_pending():
            embedder = self.embedder(progress, build="wait")
            if embedder is not None:
                vectors = self._run(embedder, progress, should_stop)
                summary.embedder = vectors.embedder
                summary.seconds = round(summary.seconds + vectors.seconds, 3)
        summary.warnings.extend(self.warnings)
        return summary

    def _run(
        self,
        embedder: Embedder | None,
        progress: Progress | None,
        should_stop: Callable[[], bool] | None,
        *,
        embed: bool = True,
    ) -> IndexSummary:
        summary = run_index(
            self.conn,
            self.db_path,
            self.root,
            self.settings,
            embedder,
            progress,
            should_stop,
            embed=embed,
        )
        if isinstance(self.conn, PgDatabase) and embedder is not None and embed:
            from contextos.code import pgvectors

            pgvectors.sync(self.conn)  # pgvector's copy of the vectors, HNSW when large
        return summary

    @overload
    def search(
        self,
        query: str,
        k: int = ...,
        *,
        files: Literal[False] = ...,
        mode: SearchMode = ...,
        config: SearchConfig | None = ...,
    ) -> list[SearchHit]: ...

    @overload
    def search(
        self,
        query: str,
        k: int = ...,
        *,
        files: Literal[True],
        mode: SearchMode = ...,
        config: SearchConfig | None = ...,
    ) -> list[FileHit]: ...

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        files: bool = False,
        mode: SearchMode = "hybrid",
        config: SearchConfig | None = None,
    ) -> list[SearchHit] | list[FileHit]:
        """Ranked chunks, or files with ``files=True``. Raises ``UserInputError`` on bad input."""
        if not query.strip():
            raise UserInputError("empty query: say what to search for")
        if k < 1:
            raise UserInputError(f"k must be at least 1, got {k}")
        if mode not in ("hybrid", "lexical", "dense"):
            raise UserInputError(f"unknown search mode {mode!r}: use hybrid, lexical or dense")
        embedder = None if mode == "lexical" else self._search_embedder()
        return search(
            self.conn,
            self._snapshots,
            embedder,
            query[:_MAX_QUERY_CHARS],
            k=k,
            files=files,
            mode=mode,
            config=config,
        )

    def _search_embedder(self) -> Embedder | None:
        embedder = self.embedder(build="background")
        if embedder is None and self.model_pending():
            from contextos.embed.resolve import model_pending_note

            self.warnings.append(model_pending_note())
            return None
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'embedder'").fetchone()
        if embedder is not None and row is not None and row[0] == embedder.name:
            # queries bypass the persistent cache: they rarely repeat and would bloat it
            inner = getattr(embedder, "inner", None)
            return inner if isinstance(inner, Embedder) else embedder
        if embedder is None or row is None or row[0] != embedder.name:
            if embedder is not None and row is not None and row[0] != "none":
                self.warnings.append(
                    f"index was embedded with {row[0]}, not {embedder.name}: re-run index;"
                    " searching lexically meanwhile"
                )
            return None
        return embedder

    def verify(self) -> list[str]:
        """Consistency problems of the index; empty when it is consistent."""
        return verify_index(self.conn)

    def indexed_paths(self) -> list[str]:
        """Relative posix paths of all indexed files, sorted."""
        return [r[0] for r in self.conn.execute("SELECT path FROM files ORDER BY path")]

    def status(self) -> dict[str, object]:
        """Counts and facts about the index."""
        meta = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
        last = self.conn.execute(
            "SELECT ts FROM audit WHERE action = 'index' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        where = (
            f"{redact_url(self.conn.url)} schema {self.conn.schema}"
            if isinstance(self.conn, PgDatabase)
            else str(self.db_path)
        )
        return {
            "root": str(self.root),
            "db_path": where,
            "files": int(self.conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]),
            "chunks": int(self.conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]),
            "embedded_chunks": int(
                self.conn.execute(
                    "SELECT COUNT(*) FROM chunks WHERE vector IS NOT NULL"
                ).fetchone()[0]
            ),
            "embedder": meta.get("embedder", "none"),
            "root_hash": meta.get("root_hash"),
            "last_indexed": last[0] if last else None,
        }

    def resolve_path(self, path: str) -> Path:
        """Resolve a user- or model-supplied path inside the root, or raise a clear error
        (``contextos.paths.confine``)."""
        return confine(self.root, path)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

"""``Engine``: the library calls behind the MCP tools, for one workspace and its users' memories.

Code calls run on one dedicated worker thread that owns the ``Workspace`` (not thread-safe);
memory calls run on their own workers: one on SQLite (the store's connection is not for
concurrent use), ``database_pool_max`` on PostgreSQL (the store borrows a pooled connection per
statement or transaction). So the SDK may call the tools from any thread. A ``Refresher`` keeps
the index fresh in its own thread; searches answer from what is indexed so far. The workspace
searches lexically until the refresher has resolved the embedder, then shares it. Results are
returned as the pydantic models of ``models``; library errors pass through as ``ContextosError``.

Every memory call names the ``user`` it is made for: the token's user on the shared HTTP
endpoint, None for stdio and a loopback server without tokens (the store's own owner: ``""`` on
the personal SQLite file, the login name on PostgreSQL). Each user gets a view of the one store
(``MemoryStore.as_owner``, cached, with its own recall snapshot) in which other users'
``user``-scoped memories do not exist; ``project`` and ``agent`` memories are shared.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from contextos.errors import UserInputError
from contextos.mcp_server.models import (
    CodeHit,
    FileMatch,
    FileSpan,
    FileText,
    ForgetResult,
    IndexStatus,
    MemoryList,
    MemoryRecord,
    PackedContext,
    RecalledMemory,
    RecallResult,
    SearchResult,
)
from contextos.mcp_server.refresh import Refresher
from contextos.paths import workspace_root
from contextos.settings import load_settings

if TYPE_CHECKING:
    from contextos.context.sources import MemoryItem
    from contextos.memory import Memory, MemoryStore
    from contextos.types import FileHit, SearchHit
    from contextos.workspace import Workspace

__all__ = ["MAX_HIT_CHARS", "MAX_K", "Engine"]

T = TypeVar("T")
MAX_K = 50
MAX_HIT_CHARS = 4000


class Engine:
    """Open, ``start()``, call the tool methods from any thread, ``close()``."""

    def __init__(
        self, root: Path | str, *, poll_seconds: float = 2.0, memory_path: Path | None = None
    ) -> None:
        self.root = workspace_root(root)  # fail fast, before the index code loads
        settings = load_settings(self.root)
        self.poll_seconds = poll_seconds
        self._memory_path = memory_path
        self._database_url = settings.database_url if memory_path is None else None
        """The team database the memories live in; None: the SQLite file ``memory_path``."""
        self._refresher = Refresher(self.root, poll_seconds, embedder_setting=settings.embedder)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="contextos-mcp")
        memory_workers = settings.database_pool_max if self._database_url else 1
        self._memory_pool = ThreadPoolExecutor(
            max_workers=memory_workers, thread_name_prefix="contextos-mcp-memory"
        )
        self._ws: Workspace | None = None
        self._memory_lock = threading.Lock()
        self._memory: MemoryStore | None = None
        self._views: dict[str, MemoryStore] = {}
        self._retired: list[MemoryStore] = []

    def start(self) -> None:
        self._refresher.start()

    def close(self, timeout: float = 1.0) -> bool:
        """Stop the refresher (interrupting an index run between batches), let running memory
        calls finish, and close the stores; True if every thread stopped within ``timeout``
        seconds."""
        stopped = self._refresher.stop(timeout)
        self._pool.submit(self._close_workspace).result()
        self._pool.shutdown()
        self._memory_pool.shutdown(wait=True)
        for store in [*self._retired, *([self._memory] if self._memory else [])]:
            store.close()
        self._memory, self._views, self._retired = None, {}, []
        return stopped

    def _call(self, fn: Callable[[], T]) -> T:
        return self._pool.submit(fn).result()

    def _memory_call(self, fn: Callable[[], T]) -> T:
        return self._memory_pool.submit(fn).result()

    def _close_workspace(self) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None

    def _workspace(self) -> Workspace:
        embedder = self._refresher.embedder
        if self._ws is not None and self._ws.embedder(build="no") is None and embedder is not None:
            self._ws.close()
            self._ws = None
        if self._ws is None:
            from contextos.workspace import Workspace

            self._ws = Workspace(self.root, embedder=embedder)
        return self._ws

    def _store(self, user: str | None) -> MemoryStore:
        """``user``'s view of the memory store (None: the store's own owner), opened on first
        use and reopened once with the embedder when the refresher has one. The store it
        replaces is closed with the engine: a call on another memory worker may still use it."""
        with self._memory_lock:
            embedder = self._refresher.embedder
            if self._memory is not None and self._memory.embedder is None and embedder is not None:
                self._retired.append(self._memory)
                self._memory, self._views = None, {}
            if self._memory is None:
                from contextos.memory import MemoryStore

                self._memory = MemoryStore.open(
                    self._memory_path, embedder=embedder, database_url=self._database_url or ""
                )
            if user is None:
                return self._memory
            view = self._views.get(user)
            if view is None:
                view = self._views[user] = self._memory.as_owner(user)
            return view

    def search_code(self, query: str, k: int = 10, files_only: bool = False) -> SearchResult:
        if not 1 <= k <= MAX_K:
            raise UserInputError(f"k must be between 1 and {MAX_K}, got {k}")

        def run() -> SearchResult:
            ws = self._workspace()
            result = SearchResult(query=query, index_state=self._refresher.state.state)
            if files_only:
                result.files = [_file_match(h) for h in ws.search(query, k, files=True)]
            else:
                result.hits = [_code_hit(h) for h in ws.search(query, k)]
            _, model_note = self._refresher.model_status()
            notes = [*ws.warnings, *([model_note] if model_note else [])]
            result.notes, ws.warnings[:] = list(dict.fromkeys(notes)), []
            return result

        return self._call(run)

    def read_file(self, path: str, start_line: int = 1, end_line: int | None = None) -> FileText:
        from contextos.mcp_server import files

        return files.read_range(self.root, path, start_line, end_line)

    def remember(
        self, text: str, tag: str | None = None, scope: str = "user", *, user: str | None = None
    ) -> MemoryRecord:
        source = f"mcp:{self.root}"
        return self._memory_call(
            lambda: _record(self._store(user).remember(text, tag=tag, scope=scope, source=source))
        )

    def recall(self, query: str, k: int = 8, *, user: str | None = None) -> RecallResult:
        if not 1 <= k <= MAX_K:
            raise UserInputError(f"k must be between 1 and {MAX_K}, got {k}")
        hits = self._memory_call(lambda: self._store(user).recall(query, k=k))
        return RecallResult(
            query=query,
            hits=[RecalledMemory(score=h.score, memory=_record(h.memory)) for h in hits],
        )

    def forget(self, memory_id: str, *, user: str | None = None) -> ForgetResult:
        memory = self._memory_call(
            lambda: self._store(user).forget(memory_id, reason="forgotten via MCP")
        )
        return ForgetResult(id=memory.id, forgotten=True, memory=_record(memory))

    def memory(self, memory_id: str, *, user: str | None = None) -> MemoryRecord:
        return self._memory_call(lambda: _record(self._store(user).get(memory_id)))

    def memories(self, *, user: str | None = None) -> MemoryList:
        return self._memory_call(
            lambda: MemoryList(memories=[_record(m) for m in self._store(user).memories()])
        )

    def build_context(
        self, task: str, budget: int = 8000, *, user: str | None = None
    ) -> PackedContext:
        """Recalls on a memory worker from ``user``'s view, then packs in the caller's thread
        (the packer opens its own workspace)."""
        from contextos.context.builder import recall_memories
        from contextos.mcp_server import packing

        embedder = self._refresher.embedder
        memories: list[MemoryItem] = []
        if task.strip():  # an empty task is the packer's error to report
            memories, _ = self._memory_call(
                lambda: recall_memories(task, embedder, store=self._store(user))
            )
        return packing.pack_window(self.root, embedder, task, budget, memories=memories)

    def index_status(self) -> IndexStatus:
        def run() -> IndexStatus:
            info = self._workspace().status()
            state = self._refresher.state
            dense, note = self._refresher.model_status()
            embedder = self._refresher.embedder
            return IndexStatus(
                root=str(self.root),
                state=state.state,
                phase=state.phase,
                search_mode="hybrid" if embedder is not None else "lexical",
                dense=dense,
                dense_note=note,
                files=int(str(info["files"])),
                chunks=int(str(info["chunks"])),
                embedded_chunks=int(str(info["embedded_chunks"])),
                embedder=embedder.name if embedder is not None else "none",
                last_indexed=_opt_str(info["last_indexed"]),
                refreshes=state.runs,
                last_change=state.last_change,
                progress=state.progress,
                error=state.error,
                poll_seconds=self.poll_seconds,
            )

        return self._call(run)


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _code_hit(hit: SearchHit) -> CodeHit:
    return CodeHit(
        path=hit.path,
        start_line=hit.start_line,
        end_line=hit.end_line,
        symbol=hit.symbol,
        kind=hit.kind,
        language=hit.language,
        score=hit.score,
        text=hit.text[:MAX_HIT_CHARS],
        truncated=len(hit.text) > MAX_HIT_CHARS,
    )


def _file_match(hit: FileHit) -> FileMatch:
    spans = [
        FileSpan(start_line=c.start_line, end_line=c.end_line, symbol=c.symbol) for c in hit.chunks
    ]
    return FileMatch(path=hit.path, score=hit.score, spans=spans)


def _record(memory: Memory) -> MemoryRecord:
    data = memory.to_dict()
    return MemoryRecord(
        id=memory.id,
        text=memory.text,
        tag=memory.tag,
        scope=memory.scope,
        source=memory.source,
        created_at=data["created_at"],
        forgotten_at=data["forgotten_at"],
    )

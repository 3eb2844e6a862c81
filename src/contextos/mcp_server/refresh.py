"""Keep a workspace index fresh in a background thread while the MCP server runs.

The thread owns its own ``Workspace`` (and so its own SQLite connection). It resolves the embedder
once, runs a first incremental index, then every ``interval`` seconds walks the tree and re-runs
the indexer only when a file's path, size or mtime changed, so an idle server writes nothing.
Readers never wait for it: the indexer commits in batches, and search answers from what is
committed. The indexer's per-workspace file lock serialises us with a concurrent
``contextos index``. Left out: OS file-watch APIs (polling needs no extra dependency and costs one
directory walk per interval; on trees so large that a walk takes more than a quarter of the
interval, the interval stretches to keep polling under ~20% of a core).
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from contextos.code.walk import walk
from contextos.embed.protocol import Embedder
from contextos.errors import ContextosError
from contextos.mcp_server.models import IndexState
from contextos.types import IndexSummary
from contextos.workspace import Workspace

__all__ = ["RefreshState", "Refresher"]


@dataclass(frozen=True, slots=True)
class RefreshState:
    """A snapshot of the refresher, safe to hand to another thread."""

    state: IndexState = "building"
    runs: int = 0
    progress: str | None = None
    error: str | None = None
    last_change: str | None = None


class Refresher:
    """Start with ``start()``, stop with ``stop()``. ``embedder`` is None until resolved."""

    def __init__(self, root: Path, interval: float = 2.0) -> None:
        self.root = root
        self.interval = interval
        self.embedder: Embedder | None = None
        self._state = RefreshState()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="contextos-refresh", daemon=True)

    @property
    def state(self) -> RefreshState:
        with self._lock:
            return self._state

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Ask the thread to stop and wait a while; an index run in flight is crash-safe."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _set(self, **changes: object) -> None:
        with self._lock:
            self._state = replace(self._state, **changes)  # type: ignore[arg-type]

    def _progress(self, stage: str, done: int, total: int) -> None:
        self._set(progress=f"{stage} {done}/{total}")

    def _run(self) -> None:
        try:
            with Workspace(self.root) as ws:
                self._loop(ws)
        except ContextosError as exc:  # bad embedder setting or unreadable database
            self._set(state="error", error=str(exc), progress=None)

    def _loop(self, ws: Workspace) -> None:
        self.embedder = ws.embedder(self._progress)
        seen: str | None = None
        while not self._stop.is_set():
            started = time.monotonic()
            current = self._fingerprint(ws)
            walk_seconds = time.monotonic() - started
            if current != seen and self._index(ws):
                seen = current
            # huge trees: keep the polling walk under ~20% of one core
            self._stop.wait(max(self.interval, 4 * walk_seconds))

    def _fingerprint(self, ws: Workspace) -> str:
        walked = walk(self.root, max_file_bytes=ws.settings.max_file_bytes)
        digest = hashlib.sha256()
        for f in walked.files:
            digest.update(f"{f.rel}\0{f.size}\0{f.mtime_ns}\n".encode("utf-8", "surrogatepass"))
        for reason, count in sorted(walked.skipped.items()):
            digest.update(f"{reason}={count}\n".encode())
        return digest.hexdigest()

    def _index(self, ws: Workspace) -> bool:
        try:
            summary = ws.index(progress=self._progress)
        except ContextosError as exc:
            self._set(state="error", error=str(exc), progress=None)
            return False
        change = _describe(summary)
        state = self.state
        change = change or state.last_change
        self._set(state="ready", runs=state.runs + 1, progress=None, error=None, last_change=change)
        return True


def _describe(summary: IndexSummary) -> str | None:
    changed = summary.files_added + summary.files_changed + summary.files_deleted
    if not changed:
        return None
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return (
        f"{when}: +{summary.files_added} ~{summary.files_changed} -{summary.files_deleted} files "
        f"in {summary.seconds:.2f}s"
    )

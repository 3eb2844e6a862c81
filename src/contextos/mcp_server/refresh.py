"""Keep a workspace index fresh in a background thread while the MCP server runs.

The thread owns its own ``Workspace`` (and so its own SQLite connection). Nothing waits for the
embedding model: the first index run is lexical unless a model is already on disk (walk, chunk,
BM25, symbols: seconds), so searches answer at once; only then does it start the model build in
the background (a detached process that outlives the server, see ``embed/distill.py``), look for
the model at every poll, and re-run the index to embed every chunk once the model is there.
Every ``interval`` seconds it walks the tree and re-runs the indexer only when a file's path,
size or mtime changed, so an idle server writes nothing. ``stop()`` interrupts a run between
batches, so shutting down never waits for an index.
Readers never wait for it: the indexer commits in batches, and search answers from what is
committed. The indexer's per-workspace file lock serialises us with a concurrent
``contextos index``. Left out: OS file-watch APIs (polling needs no extra dependency and costs one
directory walk per interval; on trees so large that a walk takes more than a quarter of the
interval, the interval stretches to keep polling under ~20% of a core).

The thread never dies of an error: a failed walk, index run or workspace open (whatever it
raised) sets state ``error`` with the message and its time, and is retried after a delay that
doubles from ``interval`` up to a minute; the first run that succeeds sets ``ready`` again.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from contextos.errors import ContextosError, EmbeddingError, IndexCancelled
from contextos.mcp_server.models import IndexState

if TYPE_CHECKING:
    from contextos.embed.protocol import Embedder
    from contextos.embed.resolve import BuildMode
    from contextos.types import IndexSummary
    from contextos.workspace import Workspace

__all__ = ["RefreshState", "Refresher"]

DenseState = Literal["ready", "loading", "building", "off", "unavailable"]

_MAX_RETRY_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class RefreshState:
    """A snapshot of the refresher, safe to hand to another thread."""

    state: IndexState = "building"
    phase: str = "starting"
    runs: int = 0
    progress: str | None = None
    error: str | None = None
    last_change: str | None = None


class Refresher:
    """Start with ``start()``, stop with ``stop()``. ``embedder`` is None until resolved."""

    def __init__(
        self, root: Path, interval: float = 2.0, *, embedder_setting: str = "auto"
    ) -> None:
        self.root = root
        self.interval = interval
        self.embedder: Embedder | None = None
        self.embedder_setting = embedder_setting.strip()
        self.embed_error: str | None = None
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

    def stop(self, timeout: float = 1.0) -> bool:
        """Ask the thread to stop and wait up to ``timeout`` seconds; True if it stopped. An
        index run in flight stops between batches; what it committed is consistent."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _set(self, **changes: object) -> None:
        with self._lock:
            self._state = replace(self._state, **changes)  # type: ignore[arg-type]

    def _progress(self, stage: str, done: int, total: int) -> None:
        self._set(progress=f"{stage} {done}/{total}")

    def _run(self) -> None:
        from contextos.workspace import Workspace

        failures = 0
        while not self._stop.is_set():
            try:
                with Workspace(self.root) as ws:
                    if self.state.state == "building" and ws.status()["last_indexed"] is not None:
                        # a complete index from an earlier run answers in full while we refresh
                        self._set(state="ready")
                    self._loop(ws)
            except Exception as exc:  # bad settings, unreadable database: reported, retried
                failures += 1
                self._stop.wait(self._failed(exc, failures))

    def _failed(self, exc: Exception, failures: int) -> float:
        """Report ``exc`` as the last error, with its time; return the seconds to wait before
        retry number ``failures`` (doubling from ``interval``, at most a minute)."""
        delay = min(_MAX_RETRY_SECONDS, self.interval * 2.0 ** min(failures, 16))
        what = str(exc) if isinstance(exc, ContextosError) else f"{type(exc).__name__}: {exc}"
        text = f"{_now()}: {what} (retry {failures} in {delay:.3g}s)"
        # an OS error may quote a file name that is not valid UTF-8
        error = text.encode("utf-8", "backslashreplace").decode("utf-8")
        self._set(state="error", phase="waiting to retry", progress=None, error=error)
        return delay

    def model_status(self) -> tuple[DenseState, str | None]:
        """How dense ranking stands — ``ready``, ``loading`` (a model is there, not yet in
        use), ``building``, ``off`` (the user chose lexical) or ``unavailable`` — and, unless
        ready or off, a note for search results saying so."""
        if self.embedder is not None:
            return "ready", None
        if self.embedder_setting == "none":
            return "off", None
        if self.embed_error is not None:
            return "unavailable", f"search is lexical-only: {self.embed_error}"
        from contextos.embed.distill import build_status
        from contextos.embed.resolve import LOCAL_MODEL, model_on_disk
        from contextos.home import models_dir

        if self.embedder_setting != "auto" or model_on_disk():
            return "loading", (
                "dense ranking starts once the first index pass is done and the embedding model "
                "is loaded; results are lexical until then"
            )
        status = build_status(models_dir() / LOCAL_MODEL)
        if status.error and not status.running:
            return "unavailable", f"lexical-only: the embedding model build {status.describe()}"
        return "building", (
            f"dense ranking is still being prepared (embedding model: {status.describe()}); "
            "results are lexical until it is ready"
        )

    def _loop(self, ws: Workspace) -> None:
        seen: str | None = None
        asked_for_model = False
        failures = 0
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                current = self._fingerprint(ws)
                walk_seconds = time.monotonic() - started
                # the first pass is lexical, so searches answer before anything is embedded
                if current != seen and self._index(ws, embed=self.state.runs > 0):
                    seen = current
                if self.embedder is None and self.state.runs > 0 and not self._stop.is_set():
                    self._set(phase="loading the embedding model")
                    self.embedder = self._resolve(ws, "no" if asked_for_model else "background")
                    asked_for_model = True
                    if self.embedder is not None:
                        seen = None  # embed every chunk indexed lexically so far, right away
                        continue
                self._set(phase=self._resting_phase(ws))
                failures = 0
                # huge trees: keep the polling walk under ~20% of one core
                wait = max(self.interval, 4 * walk_seconds)
            except Exception as exc:  # whatever failed is reported and retried, never fatal
                failures += 1
                seen = None  # the retry runs the index again, and only its success says ready
                wait = self._failed(exc, failures)
            self._stop.wait(wait)

    def _resting_phase(self, ws: Workspace) -> str:
        if self.embedder is not None:
            return "ready"
        if self.state.runs == 0:
            return "indexing"
        if ws.model_pending():
            return "lexical index ready; embedding model building"
        return "ready (lexical only)"

    def _fingerprint(self, ws: Workspace) -> str:
        from contextos.walk import walk

        walked = walk(self.root, max_file_bytes=ws.settings.max_file_bytes)
        digest = hashlib.sha256()
        for f in walked.files:
            digest.update(f"{f.rel}\0{f.size}\0{f.mtime_ns}\n".encode("utf-8", "surrogatepass"))
        for reason, count in sorted(walked.skipped.items()):
            digest.update(f"{reason}={count}\n".encode())
        return digest.hexdigest()

    def _resolve(self, ws: Workspace, build: BuildMode) -> Embedder | None:
        """The embedder if it is ready (``build`` as in ``resolve_embedder``), else None; an
        explicit model that fails to load leaves search lexical, with the reason kept."""
        try:
            return ws.embedder(build=build)
        except EmbeddingError as exc:
            self.embed_error = str(exc)
            return None

    def _index(self, ws: Workspace, *, embed: bool) -> bool:
        self._set(phase="indexing and embedding" if embed and self.embedder else "indexing")
        try:
            summary = ws.index(
                progress=self._progress, model="no", should_stop=self._stop.is_set, embed=embed
            )
        except IndexCancelled:
            return False
        change = _describe(summary)
        state = self.state
        change = change or state.last_change
        self._set(state="ready", runs=state.runs + 1, progress=None, error=None, last_change=change)
        return True


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _describe(summary: IndexSummary) -> str | None:
    """``<when>: +added ~changed -deleted files in <s>``, then what the run skipped and why."""
    changed = summary.files_added + summary.files_changed + summary.files_deleted
    if not changed:
        return None
    skipped = ", ".join(f"{n} {reason}" for reason, n in summary.skipped.items())
    return (
        f"{_now()}: +{summary.files_added} ~{summary.files_changed} -{summary.files_deleted} files "
        f"in {summary.seconds:.2f}s" + (f"; skipped: {skipped}" if skipped else "")
    )

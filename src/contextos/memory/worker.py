"""``ExtractionWorker``: the extraction queue on a background thread.

``submit`` persists the window in the caller's thread (a few milliseconds: the transcript is
safe before it returns) and wakes the worker, which processes pending jobs with its own database
connection. A crash of the process loses no transcript: the next worker or ``contextos memory
extract`` picks the pending jobs up. Errors that are not model failures (those mark the job
failed) are kept in ``errors`` rather than killing the thread silently.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from contextos.embed.protocol import Embedder
from contextos.errors import ContextosError
from contextos.llm.protocol import LLM, Message
from contextos.memory.jobs import DEFAULT_MIN_SCORE, ExtractionOutcome, ExtractionQueue
from contextos.memory.store import MemoryStore

__all__ = ["ExtractionWorker"]


class ExtractionWorker:
    def __init__(
        self,
        path: Path,
        llm: LLM,
        *,
        embedder: Embedder | None = None,
        min_score: int = DEFAULT_MIN_SCORE,
    ) -> None:
        self._path, self._llm, self._embedder, self._min_score = path, llm, embedder, min_score
        self._submitter = ExtractionQueue(MemoryStore.open(path), llm, min_score=min_score)
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._stop = False
        self.outcomes: list[ExtractionOutcome] = []
        self.errors: list[ContextosError] = []
        self._thread = threading.Thread(target=self._loop, name="contextos-memory", daemon=True)
        self._thread.start()

    def submit(self, messages: Sequence[Message], *, conversation: str | None = None) -> int:
        """Persist the window ending at the last message (a user turn); return the job id."""
        job = self._submitter.enqueue(messages, conversation=conversation, turn=len(messages) - 1)
        self._idle.clear()
        self._wake.set()
        return job

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every submitted job was processed; False on timeout."""
        self._wake.set()
        return self._idle.wait(timeout)

    def close(self, timeout: float | None = 30.0) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(timeout)
        self._submitter.store.close()

    def _loop(self) -> None:
        store = MemoryStore.open(self._path, embedder=self._embedder)
        queue = ExtractionQueue(store, self._llm, min_score=self._min_score)
        try:
            while not self._stop:
                self._wake.wait()
                self._wake.clear()
                try:
                    self.outcomes += queue.run_pending(include_failed=False)
                except ContextosError as exc:
                    self.errors.append(exc)
                if not self._wake.is_set():
                    self._idle.set()
        finally:
            store.close()

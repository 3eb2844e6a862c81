"""The extraction queue: conversation windows in, memories out, nothing lost on the way.

``ExtractionQueue.enqueue`` writes the window to the ``jobs`` table *before* any model call, keyed
by a hash of (conversation, turn, messages), so enqueueing the same turn twice is one job.
``run`` processes a job: model steps (``pipeline.py``) outside any lock, then one transaction that
checks the job is not done yet, applies the decision and marks the job done. A crash or
``kill -9`` at any point leaves either the old state (job pending, re-run later) or the whole
result; a second run of a done job changes nothing. A model failure (``ModelError``, including
output that stays malformed after re-asks) marks the job ``failed`` with the error and the raw
reply; the transcript stays, and ``run_pending`` retries it.

This is the synchronous API (tests, the CLI); ``worker.ExtractionWorker`` runs the same queue on a
background thread so extraction stays off the caller's critical path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from contextos.errors import ModelError, ModelOutputError, UserInputError
from contextos.llm.protocol import LLM, Message
from contextos.memory import pipeline, versions
from contextos.memory.ingest import build_memory
from contextos.memory.records import check_scope, now_utc, to_iso
from contextos.memory.sql import log_change
from contextos.memory.store import MemoryStore
from contextos.memory.transcript import parse_message, user_turn_windows

__all__ = ["DEFAULT_MIN_SCORE", "ExtractionOutcome", "ExtractionQueue"]

DEFAULT_MIN_SCORE = 4


@dataclass(frozen=True, slots=True)
class ExtractionOutcome:
    """What one job did. ``status``: done or failed; ``action``: ADD/UPDATE/INVALIDATE/NOOP,
    ``DROPPED`` (scored below the threshold) or None (nothing worth remembering)."""

    job_id: int
    status: str
    candidate: str | None = None
    score: int | None = None
    action: str | None = None
    memory_id: str | None = None
    reason: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ExtractionQueue:
    def __init__(
        self,
        store: MemoryStore,
        llm: LLM,
        *,
        min_score: int = DEFAULT_MIN_SCORE,
        window: int = 6,
        scope: str = "user",
    ) -> None:
        self.store, self.llm, self.min_score = store, llm, min_score
        self.window, self.scope = max(1, window), check_scope(scope)

    def enqueue(
        self, messages: Sequence[Message], *, conversation: str | None = None, turn: int = 0
    ) -> int:
        """Persist one window (it must end with a user message); return its job id."""
        window = [parse_message(m, f"message {i}") for i, m in enumerate(messages)]
        if not window or window[-1]["role"] != "user":
            raise UserInputError("an extraction window must end with a user message")
        payload = json.dumps(window, ensure_ascii=False)
        key = hashlib.sha256(json.dumps([conversation, turn, payload]).encode()).hexdigest()
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO jobs(key, conversation, turn, messages) VALUES (?,?,?,?)",
                (key, conversation, turn, payload),
            )
            row = conn.execute("SELECT id FROM jobs WHERE key = ?", (key,)).fetchone()
        return int(row[0])

    def enqueue_transcript(
        self, messages: Sequence[Message], *, conversation: str | None = None
    ) -> list[int]:
        """One job per user turn of a whole transcript (idempotent)."""
        return [
            self.enqueue(window, conversation=conversation, turn=turn)
            for turn, window in user_turn_windows(messages, self.window)
        ]

    def extract(
        self, messages: Sequence[Message], *, conversation: str | None = None
    ) -> list[ExtractionOutcome]:
        """Enqueue every user turn of ``messages`` and process them now."""
        return [
            self.run(job) for job in self.enqueue_transcript(messages, conversation=conversation)
        ]

    def pending(self, *, include_failed: bool = True) -> list[int]:
        states = ("pending", "failed") if include_failed else ("pending",)
        marks = ",".join("?" * len(states))
        rows = self.store.connection.execute(
            f"SELECT id FROM jobs WHERE status IN ({marks}) ORDER BY id", states
        )
        return [int(r[0]) for r in rows]

    def run_pending(self, *, include_failed: bool = True) -> list[ExtractionOutcome]:
        return [self.run(job) for job in self.pending(include_failed=include_failed)]

    def run(self, job_id: int) -> ExtractionOutcome:
        """Process one job (see the module docstring); safe to call again at any time."""
        conn = self.store.connection
        row = conn.execute(
            "SELECT status, conversation, turn, messages, outcome FROM jobs WHERE id = ?",
            (job_id,),
        ).fetchone()
        if row is None:
            raise UserInputError(f"unknown extraction job {job_id}")
        if row[0] == "done":
            return ExtractionOutcome(**json.loads(row[4]))
        with self.store.transaction() as tx:
            tx.execute("UPDATE jobs SET attempts = attempts + 1 WHERE id = ?", (job_id,))
        messages: list[Message] = json.loads(row[3])
        source = f"{row[1] or 'conversation'}:{row[2]}"
        try:
            return self._process(job_id, messages, source)
        except (ModelError, UserInputError) as exc:
            # A model failure, or the memory the model chose was replaced meanwhile by another
            # writer: either way the job stays, failed, for a retry with fresh inputs.
            raw = exc.raw_text if isinstance(exc, ModelOutputError) else None
            with self.store.transaction() as tx:
                tx.execute(
                    "UPDATE jobs SET status = 'failed', error = ?, raw_output = ?,"
                    " updated_at = ? WHERE id = ?",
                    (str(exc), raw, to_iso(now_utc()), job_id),
                )
            return ExtractionOutcome(job_id, "failed", error=str(exc))

    def _process(self, job_id: int, messages: list[Message], source: str) -> ExtractionOutcome:
        window = pipeline.render_window(messages)
        candidate = pipeline.extract(self.llm, window)
        if candidate is None:
            return self._finish(ExtractionOutcome(job_id, "done", reason="no memory needed"))
        if pipeline.is_explicit(messages):
            score, reasoning = 5, "the user explicitly asked to remember this"
        else:
            judged = pipeline.evaluate(self.llm, window, candidate)
            score, reasoning = judged.score, judged.reasoning
        if score < self.min_score:
            dropped = ExtractionOutcome(
                job_id, "done", candidate.line, score, "DROPPED", reason=reasoning
            )
            return self._finish(dropped)
        similar = self.store.similar(candidate.text, self.scope)
        decision = pipeline.decide(self.llm, candidate, similar)
        return self._apply(job_id, candidate, score, decision, source)

    def _apply(
        self,
        job_id: int,
        candidate: pipeline.Candidate,
        score: int,
        decision: pipeline.Decision,
        source: str,
    ) -> ExtractionOutcome:
        reason = f"extracted from {source}: {decision.reason}"
        outcome = ExtractionOutcome(
            job_id, "done", candidate.line, score, decision.action, None, decision.reason
        )
        if decision.action == "NOOP":
            target = decision.target.id if decision.target else None
            outcome = ExtractionOutcome(**{**outcome.to_dict(), "memory_id": target})
            return self._finish(outcome, noop=reason)
        new = build_memory(
            decision.text, candidate.tag, self.scope, source, None, score, secrets="redact"
        )
        (new,) = self.store.embed([new])
        outcome = ExtractionOutcome(**{**outcome.to_dict(), "memory_id": new.id})
        model = self.store.embed_model
        with self.store.transaction() as conn:
            done = self._done(job_id)
            if done is not None:
                return done
            if decision.target is None:
                versions.add(conn, [new], embed_model=model, reason=reason)
            else:
                versions.supersede(
                    conn,
                    decision.target.id,
                    new,
                    action=decision.action,
                    reason=reason,
                    embed_model=model,
                )
            self._mark_done(job_id, outcome)
        return outcome

    def _finish(self, outcome: ExtractionOutcome, noop: str | None = None) -> ExtractionOutcome:
        with self.store.transaction() as conn:
            done = self._done(outcome.job_id)
            if done is not None:
                return done
            if noop is not None and outcome.memory_id is not None:
                log_change(conn, "memory", outcome.memory_id, "NOOP", None, None, noop)
            self._mark_done(outcome.job_id, outcome)
        return outcome

    def _done(self, job_id: int) -> ExtractionOutcome | None:
        row = self.store.connection.execute(
            "SELECT outcome FROM jobs WHERE id = ? AND status = 'done'", (job_id,)
        ).fetchone()
        return ExtractionOutcome(**json.loads(row[0])) if row else None

    def _mark_done(self, job_id: int, outcome: ExtractionOutcome) -> None:
        self.store.connection.execute(
            "UPDATE jobs SET status = 'done', error = NULL, outcome = ?, updated_at = ?"
            " WHERE id = ?",
            (json.dumps(outcome.to_dict()), to_iso(now_utc()), job_id),
        )

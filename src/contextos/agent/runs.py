"""Agent runs on disk: ``$CONTEXTOS_HOME/runs/RUN_ID/`` with the trajectory and the verdict.

``trajectory.jsonl`` gets one JSON row per step, flushed and fsynced as it is written, so a run
killed at any point leaves every finished step readable; ``result.json`` is written (atomically)
when the run ends, ``diff.patch`` holds the final diff, ``verdict.json`` the human's accept or
reject. This is reward data for later. Left out: pruning old runs.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from contextos.errors import UserInputError
from contextos.home import runs_dir

__all__ = [
    "RunFiles",
    "list_runs",
    "new_run_id",
    "record_verdict",
    "run_files",
    "step_row",
    "step_window",
]

_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")


def new_run_id() -> str:
    """A sortable, unique run id: ``YYYYMMDD-HHMMSS-xxxxxx`` (UTC)."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


@dataclass(frozen=True, slots=True)
class RunFiles:
    """The files of one run."""

    dir: Path

    @property
    def trajectory(self) -> Path:
        return self.dir / "trajectory.jsonl"

    @property
    def result(self) -> Path:
        return self.dir / "result.json"

    @property
    def diff(self) -> Path:
        return self.dir / "diff.patch"

    @property
    def verdict(self) -> Path:
        return self.dir / "verdict.json"

    def append_step(self, row: dict[str, Any]) -> None:
        """Append one trajectory row durably (a crash after this keeps the row)."""
        line = json.dumps(row, ensure_ascii=False, default=str) + "\n"
        with self.trajectory.open("a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def write_json(self, path: Path, value: dict[str, Any]) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")
        os.replace(tmp, path)


def run_files(run_id: str, *, create: bool = False) -> RunFiles:
    """The files of run ``run_id``; ``UserInputError`` for a malformed or unknown id."""
    if not _ID.match(run_id):
        raise UserInputError(f"invalid run id {run_id!r}: see `contextos agent runs`")
    path = runs_dir() / run_id
    if create:
        path.mkdir(parents=True, exist_ok=True)
    elif not path.is_dir():
        raise UserInputError(f"no run {run_id!r}: see `contextos agent runs`")
    return RunFiles(path)


def list_runs() -> list[dict[str, Any]]:
    """Every run, newest first: id, task, status, steps, tokens and the verdict if any."""
    out: list[dict[str, Any]] = []
    for path in sorted(runs_dir().iterdir(), reverse=True):
        if not (path.is_dir() and _ID.match(path.name)):
            continue
        files = RunFiles(path)
        row: dict[str, Any] = {"run_id": path.name, "status": "unfinished"}
        row.update(_read(files.result, ("task", "status", "steps", "tokens", "reason")))
        verdict = _read(files.verdict, ("verdict",))
        row["verdict"] = verdict.get("verdict")
        out.append(row)
    return out


def step_row(run_id: str, step: int | None = None) -> dict[str, Any]:
    """Row ``step`` of run ``run_id``'s trajectory (the last recorded step when ``None``);
    ``UserInputError`` for an unknown run, a run with no steps or a step out of range."""
    files = run_files(run_id)
    try:
        lines = files.trajectory.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UserInputError(f"run {run_id} has no readable trajectory: {exc}") from exc
    rows: dict[int, dict[str, Any]] = {}
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        ok = isinstance(row, dict) and isinstance(row.get("step"), int)
        if ok and isinstance(row.get("sent"), list):
            rows[row["step"]] = row
    if not rows:
        raise UserInputError(f"run {run_id} has no recorded step yet")
    if step is None:
        return rows[max(rows)]
    if step not in rows:
        raise UserInputError(
            f"run {run_id} has no step {step}: its steps are {min(rows)}-{max(rows)}"
        )
    return rows[step]


def step_window(run_id: str, step: int) -> list[dict[str, Any]]:
    """The messages step ``step`` of run ``run_id`` sent to the model (its whole window)."""
    sent: list[dict[str, Any]] = step_row(run_id, step)["sent"]
    return sent


def record_verdict(run_id: str, verdict: Literal["accept", "reject"], note: str = "") -> Path:
    """Store the human's verdict on a run beside its trajectory."""
    files = run_files(run_id)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    files.write_json(files.verdict, {"verdict": verdict, "note": note, "at": stamp})
    return files.verdict


def _read(path: Path, keys: tuple[str, ...]) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: data[k] for k in keys if isinstance(data, dict) and k in data}

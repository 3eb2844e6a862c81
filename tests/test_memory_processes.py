"""Real processes: concurrent writers lose no update; kill -9 mid-extraction loses nothing. On
both backends: the child scripts open the SQLite file they are given, or (given "") the default
store, which the postgres backend's CONTEXTOS_DATABASE_URL points at its schema."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from contextos.llm import ScriptedLLM
from contextos.memory.jobs import ExtractionQueue
from tests.conftest import Backend

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from contextos.errors import UserInputError
    from contextos.memory import MemoryStore

    path, name, n, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    with MemoryStore.open(Path(path) if path else None) as store:
        Path(f"{go}.{name}").touch()
        while not go.exists():
            time.sleep(0.001)
        for i in range(n):
            store.remember(f"fact {name} number {i}", tag=name)
            while True:
                (head,) = store.memories(tag="counter")
                try:
                    store.edit(head.id, head.text + f" {name}{i}")
                    break
                except UserInputError:
                    continue
    """
)

STUCK_EXTRACTOR = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from contextos.llm import ScriptedLLM
    from contextos.memory import MemoryStore
    from contextos.memory.jobs import ExtractionQueue

    class StuckLLM(ScriptedLLM):
        def _raw(self, messages):
            if len(self.calls) == int(sys.argv[3]):
                Path(sys.argv[2]).write_text("stuck")
                time.sleep(600)
            return super()._raw(messages)

    answers = [
        json.dumps({"explanation": "x", "memory": "tooling: The user uses uv."}),
        json.dumps({"reasoning": "x", "score": 5}),
    ]
    with MemoryStore.open(Path(sys.argv[1]) if sys.argv[1] else None) as store:
        queue = ExtractionQueue(store, StuckLLM(answers))
        queue.extract([{"role": "user", "content": "I use uv"}], conversation="c1")
    """
)


def _python(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def where(backend: Backend) -> str:
    """What the child scripts open: ``backend.memory()``'s SQLite file, or "" for PostgreSQL."""
    return str(backend.tmp / "memory.db") if backend.name == "sqlite" else ""


def test_two_processes_writing_at_once_lose_no_update(tmp_path: Path, backend: Backend) -> None:
    path = where(backend)
    with backend.memory() as store:
        store.remember("counter:", tag="counter")
    n = 40
    go = tmp_path / "go"
    procs = [_python(WRITER, path, name, str(n), str(go)) for name in ("a", "b")]
    deadline = time.monotonic() + 120
    while not all(Path(f"{go}.{name}").exists() for name in "ab"):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.01)
    go.touch()  # both start writing at the same moment
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
    with backend.memory() as store:
        (head,) = store.memories(tag="counter")
        appended = head.text.split()[1:]
        assert sorted(appended) == sorted(f"{p}{i}" for p in "ab" for i in range(n))
        assert len(store.memories()) == 2 * n + 1
        versions = store.memories(tag="counter", include_closed=True)
        assert len(versions) == 2 * n + 1
        assert sum(v.superseded_by is None for v in versions) == 1
        assert len({v.superseded_by for v in versions}) == len(versions)
        adds = store.connection.execute(
            "SELECT count(*) FROM history WHERE action = 'ADD'"
        ).fetchone()[0]
        assert adds == 2 * n + 1


def _kill_while_stuck(path: str, tmp_path: Path, at_call: int) -> None:
    marker = tmp_path / f"stuck{at_call}"
    proc = _python(STUCK_EXTRACTOR, path, str(marker), str(at_call))
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("stuck_at", [0, 1], ids=["extract", "evaluate"])
def test_kill_9_during_extraction_loses_nothing_and_the_rerun_is_idempotent(
    tmp_path: Path, stuck_at: int, backend: Backend
) -> None:
    _kill_while_stuck(where(backend), tmp_path, at_call=stuck_at)
    with backend.memory() as store:
        row = store.connection.execute("SELECT status, messages FROM jobs").fetchone()
        assert row[0] == "pending"
        assert json.loads(row[1]) == [{"role": "user", "content": "I use uv"}]
        assert store.memories() == []
        answers = [
            json.dumps({"explanation": "x", "memory": "tooling: The user uses uv."}),
            json.dumps({"reasoning": "x", "score": 5}),
        ]
        (outcome,) = ExtractionQueue(store, ScriptedLLM(answers)).run_pending()
        assert (outcome.status, outcome.action) == ("done", "ADD")
        assert ExtractionQueue(store, ScriptedLLM([])).run_pending() == []
        again = ExtractionQueue(store, ScriptedLLM([])).extract(
            [{"role": "user", "content": "I use uv"}], conversation="c1"
        )
        assert again == [outcome]
        assert [m.text for m in store.memories()] == ["The user uses uv."]

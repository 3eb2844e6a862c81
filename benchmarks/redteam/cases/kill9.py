"""Area 5, ``kill -9`` mid-index: with 400 files the indexer chunks in a pool of worker
processes. Hang = any process of that home still alive 5 s after its parent was killed; the
next ``index`` must then complete and find every file (else data lost)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.redteam.clients import CONTEXTOS
from benchmarks.redteam.lab import Lab
from benchmarks.redteam.verdict import Case, Verdict, judge_cli

AREA = "5 kill -9 mid-index"
FILES = 400


def _repo(lab: Lab) -> Path:
    repo = lab.path("kill9")
    for i in range(FILES):
        body = "".join(f"def handle_{i}_{j}(event):\n    return event + {j}\n\n" for j in range(30))
        (repo / f"pkg{i // 50}").mkdir(exist_ok=True)
        (repo / f"pkg{i // 50}" / f"mod_{i:03d}.py").write_text(body)
    (repo / "pkg7" / "ledger.py").write_text("def reconcile_ledger_entries(x):\n    return x\n")
    return repo


def _kill_mid_run(lab: Lab, argv: list[str], home: Path) -> tuple[Verdict | None, str]:
    """Start ``argv``, wait until it has worker children, SIGKILL it alone; strays 5 s later."""
    proc = subprocess.Popen(
        argv,
        env=lab.env(home),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    started, seen = time.monotonic(), 0
    while time.monotonic() < started + 60 and proc.poll() is None:
        seen = max(seen, len(lab.strays(home)))
        if seen >= 3 or (seen > 1 and time.monotonic() > started + 15):
            break  # the parent and (at least) two pool workers, or one worker for 15 s
        time.sleep(0.1)
    if proc.poll() is not None:
        return Verdict("wrong", f"finished (exit {proc.returncode}) before it could be killed"), ""
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    if proc.stdin:
        with contextlib.suppress(OSError):
            proc.stdin.close()
    time.sleep(5)
    alive = lab.kill_strays(home)
    if alive:
        cmds = "; ".join(sorted({c[:90] for _, c in alive}))
        return Verdict(
            "hang", f"{len(alive)} processes alive 5 s after kill -9 (of {seen} seen): {cmds}"
        ), ""
    return None, f"no process left of {seen} seen"


def _case(server: bool) -> Callable[[Lab], Verdict]:
    def run(lab: Lab) -> Verdict:
        repo, home = _repo(lab), lab.path("home")
        argv = [CONTEXTOS, "mcp", str(repo)] if server else [CONTEXTOS, "index", str(repo)]
        verdict, note = _kill_mid_run(lab, argv, home)
        if verdict is not None and verdict.outcome != "hang":
            return verdict
        again = lab.cli(["index", str(repo)], home, timeout=120)
        after = judge_cli(again, "success")
        if after.outcome != "ok":
            return verdict or after
        hits = lab.cli(["search", "reconcile_ledger_entries", "-p", str(repo), "--json"], home)
        if "ledger.py" not in hits.stdout:
            return verdict or Verdict("data_lost", "re-index exited 0 but ledger.py is not found")
        return verdict or Verdict("ok", note + "; re-index complete")

    return run


CASES = [
    Case(
        "workers.kill9-cli-index",
        AREA,
        f"`contextos index` of {FILES} files killed -9 once "
        "its workers run; strays after 5 s; re-index",
        _case(False),
    ),
    Case(
        "workers.kill9-mcp-server",
        AREA,
        f"`contextos mcp` indexing {FILES} files killed -9; strays after 5 s; re-index",
        _case(True),
    ),
]

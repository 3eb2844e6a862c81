"""Area 4, files that fail one at a time: a non-UTF-8 name, a FIFO, a dangling symlink, files
vanishing while the index runs, and whether MCP ``index_status`` tells the truth about them.
Right = the index completes with the other files searchable (or says clearly why not)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.redteam.clients import Died, Hung
from benchmarks.redteam.lab import Lab
from benchmarks.redteam.verdict import Case, Run, Verdict, judge_cli

AREA = "4 per-file failures"
GOOD = "def reconcile_ledger_entries(ledger):\n    return sorted(ledger)\n"


def _repo(lab: Lab, odd: str) -> Path:
    repo = lab.path("odd-" + odd)
    (repo / "good.py").write_text(GOOD)
    (repo / "other.py").write_text("def other():\n    return 1\n")
    if odd in ("non-utf8-name", "all"):
        with open(os.path.join(os.fsencode(repo), b"caf\xe9_\xff.py"), "wb") as fh:
            fh.write(b"def latin():\n    return 'caf\xe9'\n")
    if odd in ("fifo", "all"):
        os.mkfifo(repo / "pipe.py")
    if odd in ("dangling-symlink", "all"):
        (repo / "gone.py").symlink_to(repo / "missing.py")
    if odd in ("symlink-loop", "all"):
        (repo / "loop_a.py").symlink_to("loop_b.py")
        (repo / "loop_b.py").symlink_to("loop_a.py")
    return repo


def _found(run: Run) -> bool:
    return run.code == 0 and "good.py" in run.stdout


def _index_then_search(odd: str) -> Callable[[Lab], Verdict]:
    def run(lab: Lab) -> Verdict:
        repo, home = _repo(lab, odd), lab.path("home")
        ran = lab.cli(["index", str(repo)], home, timeout=45)
        verdict = judge_cli(ran, "success")
        if verdict.outcome != "ok":
            return verdict
        hits = lab.cli(["search", "reconcile_ledger_entries", "-p", str(repo), "--json"], home)
        if not _found(hits):
            return (
                judge_cli(hits, "success")
                if hits.code
                else Verdict("wrong", "index exited 0 but good.py is not found")
            )
        said = (ran.stdout.strip().splitlines() or [""])[-1]
        return Verdict("ok", f"indexed ({said[:160]}); good.py found")

    return run


def _vanishing(lab: Lab) -> Verdict:
    repo, home = lab.path("vanishing"), lab.path("home")
    for i in range(400):
        (repo / f"mod_{i:03d}.py").write_text(f"def f{i}(x):\n    return x + {i}\n" * 40)
    (repo / "good.py").write_text(GOOD)
    stop = threading.Event()

    def delete() -> None:
        time.sleep(0.8)
        for i in reversed(range(400)):
            if stop.is_set():
                return
            (repo / f"mod_{i:03d}.py").unlink(missing_ok=True)
            time.sleep(0.005)

    thread = threading.Thread(target=delete, daemon=True)
    thread.start()
    ran = lab.cli(["index", str(repo)], home, timeout=90)
    stop.set()
    thread.join()
    verdict = judge_cli(ran, "success")
    if verdict.outcome != "ok":
        return verdict
    again = lab.cli(["index", str(repo)], home, timeout=60)
    return judge_cli(again, "success")


def _index_status(lab: Lab) -> Verdict:
    repo = _repo(lab, "all")
    with lab.mcp(repo, lab.path("home")) as session:
        try:
            session.start()
            status = session.wait_indexed(30)
            hits = session.call("search_code", {"query": "reconcile_ledger_entries"})
        except (Hung, Died) as exc:
            return Verdict("hang" if isinstance(exc, Hung) else "wrong", str(exc)[:240])
    shown = json.dumps({k: status.get(k) for k in ("state", "files", "error", "last_change")})
    if "Traceback" in json.dumps(status):
        return Verdict("traceback", shown)
    if status.get("state") == "error":
        good = bool(status.get("error"))
        return Verdict("clear" if good else "wrong", f"index_status {shown}")
    if "skip" not in json.dumps(status).lower():
        return Verdict("wrong", f"index_status {shown} says nothing of the 5 files it skipped")
    if "good.py" not in json.dumps(hits):
        return Verdict("wrong", f"index_status {shown} but search_code does not find good.py")
    return Verdict("ok", f"index_status {shown}")


CASES = [
    Case(
        "files.non-utf8-name",
        AREA,
        "a file named b'caf\\xe9_\\xff.py'; `index` then `search`",
        _index_then_search("non-utf8-name"),
    ),
    Case(
        "files.fifo",
        AREA,
        "a FIFO named pipe.py; `index` then `search`",
        _index_then_search("fifo"),
        fast=True,
    ),
    Case(
        "files.dangling-symlink",
        AREA,
        "gone.py -> missing.py; `index` then `search`",
        _index_then_search("dangling-symlink"),
    ),
    Case(
        "files.symlink-loop",
        AREA,
        "loop_a.py -> loop_b.py -> loop_a.py; `index` then `search`",
        _index_then_search("symlink-loop"),
    ),
    Case(
        "files.vanishing",
        AREA,
        "400 files deleted while `index` runs; then `index` again",
        _vanishing,
    ),
    Case(
        "files.mcp-index-status",
        AREA,
        "all of the above served by MCP: index_status says ready (good files found, skipped "
        "files mentioned) or error with a message",
        _index_status,
    ),
]

"""Faults an index run meets in real trees, and what survives them (issue 10, items 4-6).

A file name that is not UTF-8, a file that turns into a FIFO between the walk and the read, a
value SQLite cannot store, a tree 1,100 directories deep: each is skipped and counted, or simply
handled, while the rest of the tree is indexed. The MCP server's background indexer survives a
failing run, says so with the time, and recovers. Pool workers die with a killed indexer.
Non-UTF-8 command-line arguments end in one line and exit 2. Every fault here is a real one on
real files and processes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from contextos.mcp_server.refresh import Refresher
from contextos.types import IndexSummary
from contextos.workspace import Workspace
from tests.conftest import write_files

GOOD = {"a.py": "def alpha():\n    return 1\n", "pkg/b.py": "def beta():\n    return 2\n"}


def _env() -> dict[str, str]:
    return {**os.environ, "CONTEXTOS_EMBEDDER": "none"}


def _tree_with_undecodable_name(root: Path) -> Path:
    write_files(root, GOOD)
    fd = os.open(bytes(root) + b"/pkg/caf\xe9\xff.py", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"def gamma():\n    return 3\n")
    os.close(fd)
    return root


def _wait_for(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_file_name_that_is_not_utf8_is_skipped_and_counted(tmp_path: Path) -> None:
    root = _tree_with_undecodable_name(tmp_path / "repo")

    done = subprocess.run(
        [sys.executable, "-m", "contextos", "index", str(root), "--json"],
        env=_env(),
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    cli = json.loads(done.stdout)
    assert (cli["files_seen"], cli["files_added"], cli["skipped"]) == (
        2,
        2,
        {"undecodable_name": 1},
    )

    with Workspace(root, embedder=None) as ws:
        summary = ws.index()
        assert (summary.files_seen, summary.files_unchanged, summary.skipped) == (
            2,
            2,
            {"undecodable_name": 1},
        )
        assert sorted(ws.indexed_paths()) == ["a.py", "pkg/b.py"]


def test_mcp_index_status_reports_the_skipped_name_and_is_ready(tmp_path: Path) -> None:
    root = _tree_with_undecodable_name(tmp_path / "repo")
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "contextos", "mcp", str(root), "--poll-seconds", "0.2"],
        env=_env(),
    )
    status: dict[str, Any] = {}

    async def scenario() -> None:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                result = await session.call_tool("index_status", {})
                status.update(result.structured_content or {})
                if status["state"] == "ready":
                    return
                await anyio.sleep(0.1)

    anyio.run(scenario)
    assert (status["state"], status["files"], status["error"]) == ("ready", 2, None)
    pattern = r"\S+Z: \+2 ~0 -0 files in \d+\.\d\ds; skipped: 1 undecodable_name"
    assert re.fullmatch(pattern, status["last_change"]), status["last_change"]


def test_a_file_replaced_by_a_fifo_after_the_walk_is_skipped_not_waited_on(
    tmp_path: Path,
) -> None:
    root = tmp_path / "repo"
    write_files(root, {**GOOD, "c.py": "def gamma():\n    return 3\n"})
    fifo = root / "c.py"
    results: list[IndexSummary] = []
    paths: list[str] = []

    def swap_for_fifo_once() -> bool:
        if fifo.is_file():
            fifo.unlink()
            os.mkfifo(fifo)
        return False

    def index() -> None:
        with Workspace(root, embedder=None) as ws:
            results.append(ws.index(should_stop=swap_for_fifo_once))
            paths.extend(ws.indexed_paths())

    thread = threading.Thread(target=index, daemon=True)
    thread.start()
    thread.join(60)
    if thread.is_alive():  # blocked opening the FIFO: give it a writer that closes at once
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(60)
        pytest.fail("the indexer blocked reading a FIFO that replaced a walked file")
    (summary,) = results
    assert (summary.files_added, summary.skipped) == (2, {"not_regular": 1})
    assert sorted(paths) == ["a.py", "pkg/b.py"]


def test_a_file_sqlite_cannot_store_is_skipped_with_its_error_and_retried(
    tmp_path: Path,
) -> None:
    root = tmp_path / "repo"
    write_files(root, {**GOOD, "pkg/future.py": "def later():\n    return 4\n"})
    future = root / "pkg" / "future.py"
    year_2300 = 10_413_792_000 * 10**9  # mtime_ns past 2**63: no SQLite INTEGER holds it
    os.utime(future, ns=(year_2300, year_2300))
    if future.stat().st_mtime_ns != year_2300:
        pytest.skip("this file system cannot date a file in 2300")

    with Workspace(root, embedder=None) as ws:
        first = ws.index()
        assert (first.files_seen, first.files_added, first.skipped) == (
            3,
            2,
            {"error: OverflowError": 1},
        )
        assert sorted(ws.indexed_paths()) == ["a.py", "pkg/b.py"]
        assert ws.verify() == []
        again = ws.index()
        assert (again.files_unchanged, again.files_added, again.skipped) == (
            2,
            0,
            {"error: OverflowError": 1},
        )


def test_a_tree_1100_directories_deep_is_indexed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write_files(root, GOOD)
    chain = [root / "d"]
    for _ in range(1099):
        chain.append(chain[-1] / "d")
    for directory in chain:
        directory.mkdir()
    deepest = chain[-1] / "deep.py"
    deepest.write_text("def bottom():\n    return 0\n", encoding="utf-8")
    rel = "d/" * 1100 + "deep.py"
    try:
        with Workspace(root, embedder=None) as ws:
            summary = ws.index()
            assert (summary.files_added, summary.skipped) == (3, {})
            assert sorted(ws.indexed_paths()) == ["a.py", rel, "pkg/b.py"]
            assert ws.search("bottom", k=1)[0].path == rel
    finally:  # shutil.rmtree recurses per level too: remove the chain bottom-up
        deepest.unlink()
        for directory in reversed(chain):
            directory.rmdir()


def test_the_background_indexer_survives_a_failing_run_and_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTEXTOS_EMBEDDER", "none")
    root = tmp_path / "repo"
    write_files(root, GOOD)
    with Workspace(root, embedder=None) as ws:
        lock = Path(str(ws.db_path) + ".lock")
    refresher = Refresher(root, interval=0.05, embedder_setting="none")
    refresher.start()
    try:
        assert _wait_for(lambda: refresher.state.state == "ready"), refresher.state
        assert refresher.state.error is None

        lock.unlink()
        lock.mkdir()  # the next run cannot take the index lock: an OSError, not ours
        write_files(root, {"c.py": "def gamma():\n    return 3\n"})
        assert _wait_for(lambda: refresher.state.state == "error"), refresher.state
        error = refresher.state.error
        assert error is not None
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: IsADirectoryError: ", error), error
        assert refresher.state.progress is None

        lock.rmdir()
        assert _wait_for(lambda: refresher.state.state == "ready"), refresher.state
        assert refresher.state.error is None
        assert "+1 ~0 -0" in (refresher.state.last_change or "")
    finally:
        assert refresher.stop(10)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _stat(int(entry))[1:2] == [str(pid)]:
            found.append(int(entry))
    return found


def _stat(pid: int) -> list[str]:
    """``[state, ppid]`` of a process from ``/proc``, or ``[]`` once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return text.rsplit(")", 1)[1].split()[:2]


def _is_pool_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


# The indexer runs a pool only with 3+ CPUs (one worker on two was slower than none); this one
# is allowed a single worker, so the kill is tested on 2-CPU machines (CI) too.
_WITH_A_POOL = (
    "import contextos.code.indexer as indexer; indexer._MIN_WORKERS = 1; "
    "from contextos.cli import main; main()"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds processes in /proc")
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one CPU: the indexer runs no pool")
def test_pool_workers_exit_when_the_indexer_is_killed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    body = "".join(f"def f_{j}(x):\n    return x + {j}\n\n\n" for j in range(120))
    write_files(root, {f"pkg{i // 100}/mod_{i}.py": body for i in range(900)})
    proc = subprocess.Popen(
        [sys.executable, "-c", _WITH_A_POOL, "index", str(root), "--json"],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        started = _wait_for(
            lambda: proc.poll() is not None or any(map(_is_pool_worker, _children(proc.pid))),
            timeout=120,
        )
        assert started and proc.poll() is None, "the index ended before its pool started"
        children = _children(proc.pid)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert any(map(_is_pool_worker, children))
    time.sleep(5)
    survivors = [pid for pid in children if _stat(pid)[:1] not in ([], ["Z"])]
    assert survivors == []


def test_an_argument_that_is_not_utf8_is_one_clear_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "contextos", "search", b"\xff", "--path", str(tmp_path)],
        env=_env(),
        capture_output=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (2, b"")
    assert done.stderr.decode() == (
        "error: argument b'\\xff' is not valid UTF-8: pass text and paths as UTF-8\n"
    )

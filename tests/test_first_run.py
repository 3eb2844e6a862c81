"""The first minutes on a fresh machine: nothing waits for the embedding model, the model is built
once (in the background, surviving short sessions), and the server shuts down cleanly whatever
its indexer is doing. Real servers, real model builds, real process trees."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

import pytest

from contextos.embed.distill import build_status, missing_distill_packages, start_build
from contextos.embed.resolve import LOCAL_MODEL
from contextos.workspace import Workspace

needs_distill = pytest.mark.skipif(
    bool(missing_distill_packages()), reason="the distill extras (torch) are not installed"
)
UNIQUE = "reconcile_ledger_entries"


def make_tree(root: Path, files: int, funcs: int = 30) -> Path:
    """``files`` Python modules; module 537 (or the last) alone defines ``UNIQUE``."""
    special = min(537, files - 1)
    for i in range(files):
        body = "".join(
            f"def func_{i}_{j}(x):\n    return x * {j} + {i}\n\n\n" for j in range(funcs)
        )
        if i == special:
            body += f"def {UNIQUE}(a, b):\n    return a - b\n"
        path = root / f"pkg{i % 20}" / f"mod{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    return root / f"pkg{special % 20}" / f"mod{special}.py"


class Server:
    """``contextos mcp`` as a subprocess, spoken to in newline-delimited JSON-RPC."""

    def __init__(self, repo: Path, home: Path, **env: str) -> None:
        self.home = home
        environ = {**os.environ, "CONTEXTOS_HOME": str(home), **env}
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "contextos", "mcp", str(repo), "--poll-seconds", "0.5"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environ,
            text=True,
        )
        self._id = 0
        self.request(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "first-run-test", "version": "0"},
            },
        )
        self.notify("notifications/initialized")

    def notify(self, method: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"jsonrpc": "2.0", "method": method}) + "\n")
        self.proc.stdin.flush()

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._id += 1
        message = {"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"server exited: {self.proc.stderr.read()}")  # type: ignore[union-attr]
            reply = json.loads(line)
            if reply.get("id") == self._id:
                return dict(reply)

    def tool(self, name: str, **arguments: Any) -> dict[str, Any]:
        reply = self.request("tools/call", {"name": name, "arguments": arguments})
        result = reply["result"]
        assert not result.get("isError"), result
        return dict(result["structuredContent"])

    def close_stdin(self, timeout: float = 30.0) -> tuple[int, float, str]:
        """Close stdin as a client that goes away; (exit code, seconds to exit, stderr)."""
        assert self.proc.stdin is not None
        closed = time.monotonic()
        self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        seconds = time.monotonic() - closed
        assert self.proc.stdout is not None and self.proc.stderr is not None
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code, seconds, err


def wait_for(predicate: Any, timeout: float, what: str, poll: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def builder_pids(home: Path) -> list[int]:
    """Processes building a model into ``home`` (by their command line)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(b"_distill_child.py" in part for part in cmdline) and any(
            str(home).encode() in part for part in cmdline
        ):
            pids.append(int(entry.name))
    return sorted(pids)


def kill_builders(home: Path) -> None:
    for pid in builder_pids(home):
        with suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)  # a builder leads its own process group
    wait_for(lambda: not builder_pids(home), 10, "builders to die")


@pytest.fixture
def fresh_home(tmp_path: Path) -> Any:
    """An empty CONTEXTOS_HOME; any model build started in it is killed afterwards."""
    home = tmp_path / "fresh-home"
    yield home
    kill_builders(home)


@needs_distill
def test_a_fresh_home_answers_lexically_in_seconds_then_turns_hybrid(
    tmp_path: Path, fresh_home: Path
) -> None:
    target = make_tree(tmp_path / "repo", 1000)
    server = Server(tmp_path / "repo", fresh_home)
    try:

        def found() -> dict[str, Any] | None:
            result = server.tool("search_code", query=UNIQUE, k=3)
            hits = result["hits"]
            return result if hits and hits[0]["path"].endswith(target.name) else None

        first = wait_for(found, 60, "the first lexical hit")
        seconds = time.monotonic() - server.started
        status = server.tool("index_status")
        model_dir = fresh_home / "models" / LOCAL_MODEL

        assert seconds < 10, f"first correct hit after {seconds:.1f} s"
        assert not model_dir.exists()
        assert status["search_mode"] == "lexical" and status["embedder"] == "none"
        assert status["dense"] in ("building", "loading")  # no model yet: building or about to
        assert any("dense ranking is still being prepared" in n for n in first["notes"])

        def hybrid() -> dict[str, Any] | None:
            now = server.tool("index_status")
            done = now["dense"] == "ready" and now["embedded_chunks"] == now["chunks"]
            return now if done and now["phase"] == "ready" else None

        ready = wait_for(hybrid, 900, "the background build and embedding", poll=2.0)
        after = server.tool("search_code", query="reconcile ledger entries", k=3)

        assert ready["search_mode"] == "hybrid" and ready["dense_note"] is None
        assert ready["embedder"].startswith(f"model2vec:{LOCAL_MODEL}")
        assert ready["files"] == 1000 and ready["chunks"] > 30_000
        assert after["notes"] == [] and after["hits"][0]["path"].endswith(target.name)
        assert model_dir.is_dir() and builder_pids(fresh_home) == []
    finally:
        code, _, err = server.close_stdin()
    assert code == 0, err


@needs_distill
def test_two_servers_on_one_fresh_home_start_a_single_build_that_outlives_them(
    tmp_path: Path, fresh_home: Path
) -> None:
    make_tree(tmp_path / "a", 40)
    make_tree(tmp_path / "b", 40)
    servers = [Server(tmp_path / name, fresh_home) for name in ("a", "b")]
    try:
        for server in servers:
            wait_for(
                lambda s=server: s.tool("index_status")["dense"] == "building",  # type: ignore[misc]
                60,
                "the build to start",
            )
        wait_for(lambda: build_status(fresh_home / "models" / LOCAL_MODEL).pid, 30, "a pid")
        time.sleep(2.0)  # both servers have polled for the model several times by now
        pids = builder_pids(fresh_home)
        status = build_status(fresh_home / "models" / LOCAL_MODEL)
    finally:
        exits = [server.close_stdin() for server in servers]

    assert len(pids) == 1 and status.running and status.pid == pids[0]
    assert [(code, secs < 2.0) for code, secs, _ in exits] == [(0, True), (0, True)]
    time.sleep(1.0)
    assert builder_pids(fresh_home) == pids, "the build died with the servers"


@needs_distill
def test_a_new_build_removes_the_scratch_of_one_that_died(fresh_home: Path) -> None:
    dest = fresh_home / "models" / LOCAL_MODEL
    stale = dest.parent / f".{LOCAL_MODEL}.building-dead1234"
    (stale / "model").mkdir(parents=True)
    (stale / "model" / "half.bin").write_bytes(b"\0" * 1024)

    start_build(dest)

    wait_for(lambda: not stale.exists(), 30, "the stale scratch directory to go")
    assert build_status(dest).running
    scratch = [p.name for p in dest.parent.iterdir() if ".building-" in p.name]
    assert len(scratch) == 1 and scratch != [stale.name]


def test_closing_stdin_mid_index_exits_at_once_and_leaves_a_consistent_index(
    tmp_path: Path, default_model: Path
) -> None:
    make_tree(tmp_path / "repo", 1200)
    # where each attempt closes: at start-up (process pool spawning), in the lexical pass, and
    # while chunks are embedded (native tokenizer calls in the indexer thread)
    stages = ["start"] * 6 + ["indexing"] * 7 + ["indexing and embedding"] * 7
    outcomes = []
    for attempt, stage in enumerate(stages):
        home = tmp_path / f"home{attempt}"
        shutil.copytree(default_model / "models", home / "models")
        server = Server(tmp_path / "repo", home)
        if stage == "start":
            time.sleep(0.2 * attempt)
        else:

            def reached(stage: str = stage, server: Server = server) -> bool:
                status = server.tool("index_status")
                return bool(status["phase"] == stage and status["files"] > 0)

            wait_for(reached, 120, stage, poll=0.1)
            time.sleep(0.15 * (attempt % 7))
        phase = server.tool("index_status")["phase"]
        code, seconds, err = server.close_stdin()
        outcomes.append((attempt, phase, code, round(seconds, 2)))
        assert "Traceback" not in err and "FATAL" not in err, err
        os.environ["CONTEXTOS_HOME"] = str(home)
        try:
            with Workspace(tmp_path / "repo", embedder=None) as ws:
                assert ws.verify() == [], attempt
        finally:
            os.environ["CONTEXTOS_HOME"] = str(default_model)

    assert [(a, code) for a, _, code, _ in outcomes] == [(a, 0) for a in range(20)], outcomes
    assert max(s for *_, s in outcomes) < 2.0, outcomes
    phases = [phase for _, phase, _, _ in outcomes]
    assert phases.count("indexing") >= 7 and phases.count("indexing and embedding") >= 5, outcomes


def test_a_fresh_home_stores_a_memory_at_once_and_embeds_it_later(
    tmp_path: Path, fresh_home: Path, built_model_home: Path
) -> None:
    env = {**os.environ, "CONTEXTOS_HOME": str(fresh_home)}
    env.pop("CONTEXTOS_EMBEDDER", None)

    def contextos(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "contextos", *args, "--json"]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    started = time.monotonic()
    stored = contextos("remember", "Deploys go out on Tuesdays")
    seconds = time.monotonic() - started
    memory = json.loads(stored.stdout)

    assert stored.returncode == 0, stored.stderr
    assert seconds < 10 and embed_models(fresh_home) == {memory["id"]: None}
    if not missing_distill_packages():
        assert "embedded once it is ready" in stored.stderr
        kill_builders(fresh_home)
    shutil.copytree(built_model_home / "models", fresh_home / "models", dirs_exist_ok=True)
    recalled = contextos("recall", "when do we ship releases")
    hits = json.loads(recalled.stdout)
    assert recalled.returncode == 0, recalled.stderr
    assert hits[0]["id"] == memory["id"]
    assert str(embed_models(fresh_home)[memory["id"]]).startswith(f"model2vec:{LOCAL_MODEL}")


def embed_models(home: Path) -> dict[str, str | None]:
    with closing(sqlite3.connect(home / "memory.db")) as conn:
        return dict(conn.execute("SELECT id, embed_model FROM memories").fetchall())

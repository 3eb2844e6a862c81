"""The real entry points, driven from outside: the ``contextos`` CLI as a subprocess, the MCP
server over stdio (newline-delimited JSON-RPC), and a loopback HTTP server that records every
request made to it (the hostile endpoint a repository config points at).

Every child runs in its own session so that a timeout kills its whole process group. Left out:
the HTTP transport of the MCP server, and any client-side retries.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

from benchmarks.redteam.verdict import Run

__all__ = ["CONTEXTOS", "Died", "Hung", "McpSession", "Recorder", "run_cli"]

CONTEXTOS = str(Path(sys.executable).parent / "contextos")
PROTOCOL = "2025-06-18"


class Hung(Exception):
    """No answer within the timeout."""


class Died(Exception):
    """The server closed its output (exited) before answering."""


def _kill_group(proc: subprocess.Popen[Any]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


def _short(arg: str) -> str:
    """An argument as shown in evidence: texts (which may hold a secret) cut after 24
    characters, long paths after 40."""
    if " " in arg and len(arg) > 24:
        return arg[:24] + "…"
    return arg if len(arg) < 60 else arg[:40] + "…"


def run_cli(
    args: Sequence[str],
    env: dict[str, str],
    *,
    cwd: Path | None = None,
    timeout: float = 60,
    stdin: bytes | None = None,
    preexec: Any = None,
) -> Run:
    """Run ``contextos ARGS`` to completion or ``timeout`` (then its process group is killed)."""
    label = "contextos " + " ".join(_short(a) for a in args)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [CONTEXTOS, *args],
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        start_new_session=True,
        preexec_fn=preexec,
    )
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        timed_out = True
    return Run(
        label,
        None if timed_out else proc.returncode,
        out.decode("utf-8", "replace"),
        err.decode("utf-8", "replace"),
        timed_out,
        time.perf_counter() - started,
    )


class McpSession:
    """``contextos mcp ROOT`` over stdio; ``close()`` leaves no process behind."""

    def __init__(self, root: Path, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._log: IO[bytes] = log.open("wb")
        self.proc = subprocess.Popen(
            [CONTEXTOS, "mcp", str(root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
            start_new_session=True,
        )
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._next = 0
        self.noise: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                self._lines.put(json.loads(raw))
            except ValueError:
                self.noise.append(raw.decode("utf-8", "replace")[:200])
        self._lines.put(None)

    def send(self, msg: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(msg) + "\n").encode())
            self.proc.stdin.flush()
        except OSError as exc:
            raise Died(f"server closed stdin: {exc}") from exc

    def request(self, method: str, params: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        """Send a request; its answer as sent (``result`` or ``error``), notifications skipped."""
        self._next += 1
        msg_id = self._next
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise Hung(f"no answer to {method} within {timeout:.0f} s") from None
            if msg is None:
                self._lines.put(None)
                raise Died(f"server exited before answering {method}: {self.stderr()[-300:]}")
            if msg.get("id") == msg_id:
                return msg

    def start(self, timeout: float = 30) -> None:
        self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL,
                "capabilities": {},
                "clientInfo": {"name": "contextos-redteam", "version": "1"},
            },
            timeout,
        )
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def call(self, tool: str, arguments: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        return self.request("tools/call", {"name": tool, "arguments": arguments}, timeout)

    def wait_indexed(self, timeout: float = 60) -> dict[str, Any]:
        """Poll ``index_status`` until its state is not ``building``; the last status."""
        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            reply = self.call("index_status", {}, timeout=max(1.0, deadline - time.monotonic()))
            result = reply.get("result", {})
            if "error" in reply or result.get("isError"):
                text = " ".join(c.get("text", "") for c in result.get("content", []))
                return {
                    "state": "error",
                    "error": text or str(reply.get("error")),
                    "tool_error": True,
                }
            status = result.get("structuredContent") or {}
            if status.get("state") not in (None, "building"):
                return status
            time.sleep(0.3)
        raise Hung(f"index_status still {status.get('state')!r} after {timeout:.0f} s")

    def stderr(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log.read_bytes().decode("utf-8", "replace")

    def close(self) -> int | None:
        """Close stdin, give the server 5 s to exit, then kill its group; its exit code."""
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            code: int | None = self.proc.wait(5)
        except subprocess.TimeoutExpired:
            code = None
        _kill_group(self.proc)
        self._reader.join(5)
        if self.proc.stdout is not None and not self._reader.is_alive():
            self.proc.stdout.close()
        self._log.close()
        return code

    def __enter__(self) -> McpSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _embeddings(body: str) -> bytes | None:
    """An OpenAI ``/embeddings`` answer (8-dimensional vectors) for ``body``, if it asks one."""
    try:
        texts = json.loads(body)["input"]
    except (ValueError, KeyError, TypeError):
        return None
    texts = [texts] if isinstance(texts, str) else texts
    data = [
        {"object": "embedding", "index": i, "embedding": [((len(t) + k) % 7) / 7 for k in range(8)]}
        for i, t in enumerate(texts)
    ]
    usage = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
    return json.dumps({"object": "list", "data": data, "model": "m", "usage": usage}).encode()


class Recorder:
    """A loopback HTTP server that records every request. It answers 401 (so clients stop), or
    with ``embeddings=True`` answers ``/embeddings`` requests like a real server (the user's own
    server, as opposed to the one a hostile repository names)."""

    def __init__(self, embeddings: bool = False) -> None:
        self.requests: list[dict[str, Any]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(size).decode("utf-8", "replace") if size else ""
                recorder.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers.items()),
                        "body": body[:2000],
                    }
                )
                answer = _embeddings(body) if embeddings else None
                reply = answer or b'{"error": {"message": "recorded", "type": "invalid_request"}}'
                self.send_response(200 if answer else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = do_PUT = _record

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def take(self) -> list[dict[str, Any]]:
        """The requests recorded since the last call."""
        taken, self.requests = self.requests, []
        return taken

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

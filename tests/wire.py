"""A real HTTP server on loopback that replays recorded answers, for the model adapter tests.

``WireServer`` listens on 127.0.0.1 at a free port and answers each POST with the next queued
answer: a ``Reply`` (status, headers such as ``Retry-After``, a JSON body or raw bytes for a
malformed one, a delay), or a function that makes one from the request. With nothing queued it
answers with its ``default`` (HTTP 500 unless given). Every request is recorded, as a dict with
its ``path``, lower-cased ``headers`` and JSON ``body``. Used as a context manager it serves on a
thread and, on exit, cuts any delayed answer short and stops.

Left out: GET and streaming answers, TLS.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

__all__ = ["Answer", "Reply", "WireServer"]


@dataclass
class Reply:
    """One recorded answer. ``body`` is sent as JSON, or as is when it is bytes."""

    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


Answer = Reply | Callable[[dict[str, Any]], Reply]
"""A reply, or a function from the recorded request to one."""


class WireServer(ThreadingHTTPServer):
    """Answers each POST with the next queued ``Answer``, else ``default``; records requests."""

    daemon_threads = True

    def __init__(self, default: Answer | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.default: Answer = default if default is not None else Reply(500)
        self.replies: deque[Answer] = deque()
        self.requests: list[dict[str, Any]] = []
        self.released = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def queue(self, *replies: Answer) -> None:
        with self._lock:
            self.replies.extend(replies)

    def bodies(self) -> list[Any]:
        return [r["body"] for r in self.requests]

    def next_reply(self, request: dict[str, Any]) -> Reply:
        """Record ``request`` and make the answer to it."""
        with self._lock:
            self.requests.append(request)
            answer = self.replies.popleft() if self.replies else self.default
        return answer if isinstance(answer, Reply) else answer(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that time out close their socket; that is expected here."""

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.released.set()
        self.shutdown()
        self.server_close()
        self._thread.join()


class _Handler(BaseHTTPRequestHandler):
    server: WireServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        reply = self.server.next_reply(
            {
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": json.loads(raw) if raw else None,
            }
        )
        if reply.delay_s:
            self.server.released.wait(reply.delay_s)
        payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass


def free_port() -> int:
    """A loopback port nobody listens on right now (for a server a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[str], timeout: float = 30.0) -> None:
    """Wait until ``proc`` accepts connections on ``port``; fail with its stderr if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.communicate()[1]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listening on port {port} after {timeout} s")

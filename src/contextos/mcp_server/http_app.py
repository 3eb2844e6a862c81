"""The shared MCP endpoint: an ASGI guard around the SDK's streamable-HTTP app.

``GuardedApp`` answers ``/healthz`` (alive) and ``/readyz`` (index ready; 503 while building)
without authentication, and 404 to OAuth discovery under ``/.well-known/`` (so a client that
probes for OAuth keeps its configured header). Every other request goes through, in order: the
bearer token (401 with ``WWW-Authenticate: Bearer``), the token's rate limit (429 with
``Retry-After``), the body size limit (413) and the token's scope (403 when a ``read`` token calls
a tool that is not read-only; which tools those are is decided once, by each tool's
``read_only_hint`` annotation in ``server.py``). Only then does the request reach the MCP app.
Each tool call leaves one JSON line in the log: time, token id and user (never the token), tool,
latency, response bytes, status.

The token's user is the caller's identity: the guard sets ``CALLER`` for the request, the SDK
runs the tool handler in the context of the request that sent the message (and ``anyio`` copies
it into the handler's thread), so ``caller()`` in a handler names the user whose memories the
call reads and writes.

Authentication is on when ``auth='required'``, when the server binds a non-loopback address, or
as soon as any token exists (so creating the first token locks a running loopback server).
``check_startable`` refuses to start a server that requires tokens when there are none.

Leaves out: TLS (run it behind a reverse proxy, see docs/teams.md) and CORS.
"""

from __future__ import annotations

import ipaddress
import json
import math
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TextIO

from contextos.errors import ConfigError, ContextosError
from contextos.mcp_server.auth import TokenInfo, TokenStore
from contextos.settings import Settings

__all__ = [
    "CALLER",
    "FORBIDDEN",
    "GuardedApp",
    "HttpOptions",
    "RateLimiter",
    "caller",
    "check_startable",
    "is_loopback",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_CREATE_HINT = "create one with `contextos token create --user NAME`"
_SNIFF_BYTES = 1 << 20
FORBIDDEN = -32001
"""JSON-RPC error code (implementation-defined range) of a call the token's scope forbids; the
403 body is a JSON-RPC error so an MCP client shows the model why."""

CALLER: ContextVar[str | None] = ContextVar("contextos_mcp_caller", default=None)
"""The user of the bearer token of the request being served; None without a token (stdio, or a
loopback server with no tokens), where the memory store's own owner applies."""


def caller() -> str | None:
    """The user the current tool call is made for (see ``CALLER``)."""
    return CALLER.get()


@dataclass(frozen=True)
class HttpOptions:
    """How the HTTP endpoint guards itself; ``from_settings`` reads the ``mcp_*`` settings."""

    auth: Literal["auto", "required"] = "auto"
    """``auto``: tokens required on a non-loopback bind or once any token exists; ``required``:
    always (a server with no tokens refuses to start)."""
    max_body_bytes: int = 1 << 20
    """Largest request body accepted; larger ones get 413."""
    rate_per_second: float = 20.0
    """Requests per second each token may make on average (token bucket refill)."""
    burst: int = 40
    """Requests a token may make at once before the rate applies (bucket size)."""
    log_path: Path | None = None
    """File the tool-call log lines are appended to; None: stderr."""

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpOptions:
        """The ``mcp_*`` settings (``CONTEXTOS_MCP_AUTH``, ``..._MAX_BODY_BYTES``, ``..._RATE``,
        ``..._BURST``, ``..._LOG`` or the config file)."""
        return cls(
            auth=settings.mcp_auth,
            max_body_bytes=settings.mcp_max_body_bytes,
            rate_per_second=settings.mcp_rate,
            burst=settings.mcp_burst,
            log_path=Path(settings.mcp_log).expanduser() if settings.mcp_log else None,
        )


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_startable(host: str, options: HttpOptions, store: TokenStore) -> None:
    """Refuse (``ConfigError``) a server that must require tokens while none exist."""
    if store.tokens():
        return
    if options.auth == "required":
        raise ConfigError(f"--auth required but no API tokens exist: {_CREATE_HINT}")
    if not is_loopback(host):
        raise ConfigError(
            f"serving on {host} requires API tokens and none exist: {_CREATE_HINT}, "
            "or bind 127.0.0.1"
        )


class RateLimiter:
    """A token bucket per key: ``burst`` requests at once, refilled at ``rate`` per second."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self._clock = rate, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> float:
        """Spend one request for ``key``: 0.0 when allowed, else the seconds until one is."""
        now = self._clock()
        level, last = self._buckets.get(key, (float(self.burst), now))
        level = min(float(self.burst), level + (now - last) * self.rate)
        if level >= 1.0:
            self._buckets[key] = (level - 1.0, now)
            return 0.0
        self._buckets[key] = (level, now)
        return (1.0 - level) / self.rate


async def _answer(
    send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _tool_calls(body: bytes) -> list[str]:
    """Names of the tools a JSON-RPC POST body calls (a batch may call several)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return []
    messages = parsed if isinstance(parsed, list) else [parsed]
    names = []
    for message in messages:
        if isinstance(message, dict) and message.get("method") == "tools/call":
            params = message.get("params")
            name = params.get("name") if isinstance(params, dict) else None
            names.append(name if isinstance(name, str) else "")
    return names


def _request_id(body: bytes) -> Any:
    """The id of a single JSON-RPC request (None for a batch), to answer it with an error."""
    parsed = json.loads(body)
    return parsed.get("id") if isinstance(parsed, dict) else None


class GuardedApp:
    """The MCP app behind auth, rate and size limits, scope checks and the tool-call log."""

    def __init__(
        self,
        mcp_app: ASGIApp,
        *,
        host: str,
        options: HttpOptions,
        tokens: TokenStore,
        write_tools: Callable[[], Awaitable[frozenset[str]]],
        index_state: Callable[[], Awaitable[str]],
        mcp_path: str = "/mcp",
    ) -> None:
        self.app, self.options, self.tokens = mcp_app, options, tokens
        self.loopback = is_loopback(host)
        self.limiter = RateLimiter(options.rate_per_second, options.burst)
        self._write_tools, self._index_state, self.mcp_path = write_tools, index_state, mcp_path
        self._log: TextIO = sys.stderr
        if options.log_path is not None:
            options.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = options.log_path.open("a", encoding="utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)  # lifespan: the SDK's session manager
            return
        path = scope["path"]
        if path == "/healthz":
            await _answer(send, 200, {"status": "ok"})
        elif path == "/readyz":
            state = await self._index_state()
            await _answer(send, 200 if state == "ready" else 503, {"ready": state == "ready"})
        elif path.startswith("/.well-known/"):
            await _answer(send, 404, {"error": "no OAuth here: send a bearer token"})
        else:
            await self._guarded(scope, receive, send)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            tokens = self.tokens.tokens()
        except ContextosError as exc:
            await _answer(send, 500, {"error": str(exc)})
            return
        token: TokenInfo | None = None
        if tokens or self.options.auth == "required" or not self.loopback:
            token = await self._authenticate(scope, send)
            if token is None:
                return
        client = scope.get("client") or ("local", 0)
        wait = self.limiter.take(token.id if token else f"anonymous:{client[0]}")
        if wait:
            retry = str(max(1, math.ceil(wait)))
            message = f"rate limit exceeded: retry after {retry} s"
            await _answer(send, 429, {"error": message}, {"Retry-After": retry})
            return
        identity = CALLER.set(token.user if token else None)
        try:
            if scope["method"] != "POST":
                await self.app(scope, receive, send)
                return
            body = await self._read_body(scope, receive, send)
            if body is None:
                return
            await self._call(scope, body, receive, send, token)
        finally:
            CALLER.reset(identity)

    async def _authenticate(self, scope: Scope, send: Send) -> TokenInfo | None:
        header = _header(scope, b"authorization") or ""
        kind, _, presented = header.partition(" ")
        token = self.tokens.verify(presented.strip()) if kind.lower() == "bearer" else None
        if token is None:
            why = "invalid bearer token" if header else "missing bearer token"
            challenge = 'Bearer realm="contextos"'
            if header:
                challenge += ', error="invalid_token"'
            message = f"{why}: send Authorization: Bearer <token> ({_CREATE_HINT})"
            await _answer(send, 401, {"error": message}, {"WWW-Authenticate": challenge})
        return token

    async def _read_body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        limit = self.options.max_body_bytes
        too_big = {"error": f"request body over {limit} bytes"}
        declared = _header(scope, b"content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            await _answer(send, 413, too_big)
            return None
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = bytes(message.get("body", b""))
            size += len(chunk)
            if size > limit:
                await _answer(send, 413, too_big)
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _call(
        self, scope: Scope, body: bytes, receive: Receive, send: Send, token: TokenInfo | None
    ) -> None:
        tools = _tool_calls(body)
        if token is not None and token.scope == "read" and tools:
            writes = await self._write_tools()
            denied = [t for t in tools if t in writes]
            if denied:
                self._record(token, denied, 0.0, 0, "forbidden")
                message = (
                    f"token {token.id} has read scope and may not call {', '.join(denied)}: "
                    "use a token created with --scope write"
                )
                error = {"code": FORBIDDEN, "message": message}
                await _answer(
                    send, 403, {"jsonrpc": "2.0", "id": _request_id(body), "error": error}
                )
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        status, sent, sniffed = 0, 0, bytearray()

        async def measured(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                chunk = bytes(message.get("body", b""))
                sent += len(chunk)
                if len(sniffed) < _SNIFF_BYTES:
                    sniffed.extend(chunk[: _SNIFF_BYTES - len(sniffed)])
            await send(message)

        started = time.perf_counter()
        await self.app(scope, replay, measured if tools else send)
        if tools:
            outcome = "ok" if status < 400 else f"http_{status}"
            if outcome == "ok" and b'"isError":true' in sniffed.replace(b" ", b""):
                outcome = "tool_error"
            self._record(token, tools, time.perf_counter() - started, sent, outcome)

    def _record(
        self, token: TokenInfo | None, tools: list[str], seconds: float, size: int, status: str
    ) -> None:
        """One JSON line per tool call: who, what, how long, how big, how it ended."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        for tool in tools:
            line = {
                "time": now,
                "event": "tool_call",
                "token_id": token.id if token else None,
                "user": token.user if token else None,
                "tool": tool,
                "latency_ms": round(seconds * 1000, 1),
                "bytes": size,
                "status": status,
            }
            self._log.write(json.dumps(line) + "\n")
        self._log.flush()

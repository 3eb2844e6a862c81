"""The load: N MCP clients on one event loop, each with its own bearer token and session.

A client speaks raw JSON-RPC over streamable HTTP (``httpx``; one POST per message, the answer
as JSON or as SSE ``data:`` lines): ``initialize`` and ``notifications/initialized`` untimed,
then, until the deadline, one tool call after another, drawn from ``MIX``. Every call is timed
from request to parsed answer and ends in one ``Call`` (tool, seconds, error or None). A
``remember`` is acknowledged when its answer carries the new memory's id; each text is unique
(user, client-local counter), so the store's de-duplication never folds two calls into one.
Every ``recall`` answer is checked for another user's ``user``-scoped memory (a leak).

Left out: the SDK's client (heavier per call than the server work it would measure on two
cores), resources, and retries (a failed call is counted, not retried).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["MIX", "Call", "ClientResult", "run_clients"]

PROTOCOL = "2025-06-18"
MIX: dict[str, float] = {"search_code": 0.4, "recall": 0.3, "remember": 0.15, "build_context": 0.15}
"""Share of each tool in a client's calls."""
WORDS = (  # noqa: SIM905 (the vocabulary of benchmarks.startup.harness.make_repo)
    "account balance cache config record invoice payment report session schedule token order "
    "customer vendor shipment metric event batch queue profile audit policy quota region tariff "
    "budget forecast asset journal window buffer cursor widget channel route signal handler "
    "load save build parse render merge split apply check update collect compute"
).split()


@dataclass(frozen=True, slots=True)
class Call:
    tool: str
    seconds: float
    error: str | None = None


@dataclass
class ClientResult:
    user: str
    calls: list[Call] = field(default_factory=list)
    remembered: list[str] = field(default_factory=list)
    """Ids of the memories the server acknowledged."""
    leaks: list[str] = field(default_factory=list)
    """Texts of other users' ``user``-scoped memories that a recall returned (target: none)."""
    setup_error: str | None = None


class CallError(Exception):
    """A call that did not succeed: HTTP status, JSON-RPC error or a tool error."""


def _arguments(tool: str, user: str, n: int, rng: random.Random) -> dict[str, Any]:
    words = rng.sample(WORDS, 3)
    if tool == "search_code":
        return {"query": f"{words[0]} {words[1]}", "k": 10}
    if tool == "recall":
        return {"query": f"{words[0]} {words[1]} {words[2]}", "k": 8}
    if tool == "build_context":
        return {"task": f"fix {words[0]} {words[1]} in {words[2]}", "budget": 4000}
    scope = "user" if n % 2 else "project"
    return {
        "text": f"{user} prefers {words[0]} {words[1]} for {words[2]} (note {n})",
        "scope": scope,
    }


class Client:
    """One MCP session over streamable HTTP with one bearer token."""

    def __init__(self, http: httpx.AsyncClient, url: str, token: str) -> None:
        self.http, self.url = http, url
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
        }
        self._id = 0

    async def post(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        notification = method.startswith("notifications/")
        if not notification:
            self._id += 1
            message["id"] = self._id
        response = await self.http.post(self.url, json=message, headers=self.headers)
        if session := response.headers.get("mcp-session-id"):
            self.headers |= {"Mcp-Session-Id": session, "MCP-Protocol-Version": PROTOCOL}
        if response.status_code >= 400:
            raise CallError(f"HTTP {response.status_code}: {response.text[:200]}")
        if notification:
            return {}
        return _answer(response, self._id)

    async def tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = await self.post("tools/call", {"name": name, "arguments": arguments})
        if result.get("isError"):
            raise CallError(f"tool error: {str(result.get('content'))[:200]}")
        return dict(result.get("structuredContent") or {})


def _answer(response: httpx.Response, msg_id: int) -> dict[str, Any]:
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        messages = [
            json.loads(line[5:])
            for line in response.text.splitlines()
            if line.startswith("data:") and line[5:].strip()
        ]
    else:
        messages = [response.json()]
    for message in messages:
        if isinstance(message, dict) and message.get("id") == msg_id:
            if "error" in message:
                raise CallError(f"JSON-RPC error: {message['error']}")
            return dict(message["result"])
    raise CallError("no answer to the request in the response")


async def _run_one(
    result: ClientResult, url: str, token: str, deadline: float, seed: int, timeout: float
) -> None:
    user = result.user
    rng = random.Random(seed)
    tools, weights = list(MIX), list(MIX.values())
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as http:
        client = Client(http, url, token)
        try:
            await client.post(
                "initialize",
                {
                    "protocolVersion": PROTOCOL,
                    "capabilities": {},
                    "clientInfo": {"name": "contextos-team-load", "version": "1"},
                },
            )
            await client.post("notifications/initialized")
        except (CallError, httpx.HTTPError) as exc:
            result.setup_error = f"{type(exc).__name__}: {exc}"
            return
        n = 0
        while time.monotonic() < deadline:
            n += 1
            tool = rng.choices(tools, weights)[0]
            started = time.perf_counter()
            try:
                answer = await client.tool(tool, _arguments(tool, user, n, rng))
            except (CallError, httpx.HTTPError) as exc:
                elapsed = time.perf_counter() - started
                result.calls.append(Call(tool, elapsed, f"{type(exc).__name__}: {exc}"[:300]))
                continue
            result.calls.append(Call(tool, time.perf_counter() - started))
            if tool == "remember":
                result.remembered.append(str(answer["id"]))
            elif tool == "recall":
                for hit in answer.get("hits", []):
                    memory = hit["memory"]
                    if memory["scope"] == "user" and not memory["text"].startswith(f"{user} "):
                        result.leaks.append(memory["text"])


async def _gather(
    url: str,
    tokens: dict[str, str],
    seconds: float,
    timeout: float,
    progress: Callable[[list[ClientResult]], None],
) -> list[ClientResult]:
    deadline = time.monotonic() + seconds
    results = [ClientResult(user) for user in tokens]
    tasks = [
        asyncio.create_task(_run_one(result, url, tokens[result.user], deadline, seed, timeout))
        for seed, result in enumerate(results)
    ]
    while not all(t.done() for t in tasks):
        await asyncio.wait(tasks, timeout=5.0)
        progress(results)
    for task in tasks:
        task.result()  # a bug in a client is a crash, not a figure
    return results


def run_clients(
    url: str,
    tokens: dict[str, str],
    seconds: float,
    *,
    timeout: float = 120.0,
    progress: Callable[[list[ClientResult]], None] = lambda _: None,
) -> list[ClientResult]:
    """Run one client per ``tokens`` entry (user → secret) against ``url`` for ``seconds``
    (calls in flight at the deadline finish); ``progress(results so far)`` every 5 s."""
    return asyncio.run(_gather(url, tokens, seconds, timeout, progress))

"""The shared MCP endpoint as a team sees it: a real server subprocess on loopback, bearer
tokens made by ``contextos token``, the SDK's own client for the calls that must work, raw HTTP
for the ones that must be refused (401, 403, 413, 429), health endpoints and the tool-call log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import typer
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from typer.testing import CliRunner

from contextos.cli import token as token_cli
from contextos.mcp_server.auth import create_token, revoke_token
from contextos.mcp_server.http_app import FORBIDDEN, RateLimiter
from tests.conftest import RepoMaker
from tests.test_mcp_server import call, wait_ready
from tests.wire import free_port, wait_listening

FILES: dict[str, str | bytes] = {"calc.py": "def add_numbers(a, b):\n    return a + b\n"}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


def _call_body(tool: str, **arguments: Any) -> dict[str, Any]:
    params = {"name": tool, "arguments": arguments}
    return {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params}


@dataclass
class Server:
    proc: subprocess.Popen[str]
    port: int
    stderr: str = ""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post(
        self, body: Any, token: str | None = None, auth: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(MCP_HEADERS)
        if token is not None or auth is not None:
            headers["Authorization"] = auth or f"Bearer {token}"
        if "content" not in kwargs:
            kwargs["json"] = body
        return httpx.post(f"{self.base}/mcp", headers=headers, timeout=10, **kwargs)


@contextmanager
def serving(repo: Path, **env: str) -> Iterator[Server]:
    """The server on a free loopback port; on exit SIGTERM, which must end it cleanly (exit 0)."""
    port = free_port()
    args = ["-m", "contextos", "mcp", str(repo), "--transport", "http", "--port", str(port)]
    proc = subprocess.Popen(
        [sys.executable, *args, "--poll-seconds", "0.5"],
        env={**os.environ, "CONTEXTOS_EMBEDDER": "none", **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = Server(proc, port)
    try:
        wait_listening(port, proc)
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        _, server.stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in server.stderr, server.stderr


def run_session(server: Server, token: str, scenario: Any) -> None:
    async def main() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            create_mcp_http_client(headers=headers) as client,
            streamable_http_client(f"{server.base}/mcp", http_client=client) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            await scenario(session)

    anyio.run(main)


def _tool_lines(stderr: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "tool_call"]


def test_without_a_valid_token_the_endpoint_answers_401_and_no_data(
    make_repo: RepoMaker,
) -> None:
    create_token("alice", "write")
    with serving(make_repo(FILES)) as server:
        missing = server.post(_call_body("search_code", query="add_numbers"))
        wrong = server.post(_call_body("search_code", query="add_numbers"), token="ctx_wrong")
        basic = server.post({}, auth="Basic YWxpY2U6eA==")
        stream = httpx.get(f"{server.base}/mcp", headers=MCP_HEADERS, timeout=10)
    for response in (missing, wrong, basic, stream):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith('Bearer realm="contextos"')
        assert "add_numbers" not in response.text and "jsonrpc" not in response.text
    assert missing.json() == {
        "error": "missing bearer token: send Authorization: Bearer <token> "
        "(create one with `contextos token create --user NAME`)"
    }
    assert wrong.json()["error"].startswith("invalid bearer token")
    assert wrong.headers["www-authenticate"].endswith('error="invalid_token"')


def test_a_read_token_searches_but_writing_tools_answer_403(make_repo: RepoMaker) -> None:
    info, secret = create_token("bob", "read")
    with serving(make_repo(FILES)) as server:

        async def scenario(session: ClientSession) -> None:
            assert (await wait_ready(session))["state"] == "ready"
            found = await call(session, "search_code", query="add_numbers")
            assert found["hits"][0]["path"] == "calc.py"
            with pytest.raises(MCPError) as refused:
                await session.call_tool("remember", {"text": "Deploys happen on Fridays."})
            assert "read scope and may not call remember" in refused.value.message

        run_session(server, secret, scenario)
        forget = server.post(_call_body("forget", id="abc"), token=secret)
    assert forget.status_code == 403
    assert forget.json() == {
        "jsonrpc": "2.0",
        "id": 7,
        "error": {
            "code": FORBIDDEN,
            "message": f"token {info.id} has read scope and may not call forget: "
            "use a token created with --scope write",
        },
    }
    statuses = [(line["tool"], line["status"]) for line in _tool_lines(server.stderr)]
    assert ("remember", "forbidden") in statuses and ("forget", "forbidden") in statuses


def test_a_write_token_remembers_and_the_log_names_the_token_id_never_the_token(
    make_repo: RepoMaker,
) -> None:
    info, secret = create_token("carol", "write")
    with serving(make_repo(FILES)) as server:

        async def scenario(session: ClientSession) -> None:
            memory = await call(session, "remember", text="CI runs on two cores.")
            hits = (await call(session, "recall", query="CI cores"))["hits"]
            assert hits[0]["memory"]["id"] == memory["id"]

        run_session(server, secret, scenario)
    assert secret not in server.stderr
    remembered = next(line for line in _tool_lines(server.stderr) if line["tool"] == "remember")
    assert set(remembered) == {
        "time",
        "event",
        "token_id",
        "user",
        "tool",
        "latency_ms",
        "bytes",
        "status",
    }
    assert (remembered["token_id"], remembered["user"], remembered["status"]) == (
        info.id,
        "carol",
        "ok",
    )
    assert remembered["latency_ms"] > 0 and remembered["bytes"] > 0


def test_an_oversize_body_gets_413_and_a_burst_over_the_rate_gets_429(
    make_repo: RepoMaker,
) -> None:
    _, secret = create_token("dave", "write")
    limits = {"CONTEXTOS_MCP_MAX_BODY_BYTES": "4096", "CONTEXTOS_MCP_RATE": "1"}
    with serving(make_repo(FILES), **limits, CONTEXTOS_MCP_BURST="5") as server:
        big = _call_body("remember", text="x" * 5000)
        declared = server.post(big, token=secret)
        chunked = server.post(None, token=secret, content=iter([b"{" * 3000, b"}" * 3000]))
        answers = [server.post({}, token=secret) for _ in range(6)]
    assert (declared.status_code, chunked.status_code) == (413, 413)
    assert declared.json() == {"error": "request body over 4096 bytes"}
    assert [a.status_code for a in answers][-1] == 429
    assert answers[-1].headers["retry-after"] == "1"
    assert answers[-1].json() == {"error": "rate limit exceeded: retry after 1 s"}


def test_health_and_readiness_answer_without_a_token_and_hold_no_data(
    make_repo: RepoMaker,
) -> None:
    create_token("erin", "write")
    with serving(make_repo(FILES)) as server:
        health = httpx.get(f"{server.base}/healthz", timeout=10)
        oauth = httpx.get(f"{server.base}/.well-known/oauth-protected-resource/mcp", timeout=10)
        deadline = time.monotonic() + 30
        while (ready := httpx.get(f"{server.base}/readyz", timeout=10)).status_code != 200:
            assert ready.json() == {"ready": False}
            assert time.monotonic() < deadline, "the index never became ready"
            time.sleep(0.1)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert oauth.status_code == 404
    assert ready.json() == {"ready": True}


def test_a_token_revoked_while_the_server_runs_is_refused_on_the_next_request(
    make_repo: RepoMaker,
) -> None:
    info, secret = create_token("frank", "read")
    create_token("grace", "write")
    with serving(make_repo(FILES)) as server:
        before = server.post({}, token=secret)
        revoke_token(info.id)
        after = server.post({}, token=secret)
    assert before.status_code != 401
    assert after.status_code == 401


def test_token_list_never_shows_tokens_and_revoke_names_unknown_ids() -> None:
    app = typer.Typer()
    token_cli.register(app)
    runner = CliRunner()
    created = runner.invoke(app, ["token", "create", "--user", "heidi", "--json"])
    assert created.exit_code == 0, created.output
    made = json.loads(created.stdout)
    assert made["token"].startswith("ctx_") and len(made["token"]) == 4 + 43
    listed = runner.invoke(app, ["token", "list", "--json"])
    assert json.loads(listed.stdout) == [
        {k: made[k] for k in ("id", "user", "scope", "created_at")}
    ]
    human = runner.invoke(app, ["token", "list"])
    assert made["token"] not in human.output + listed.output
    assert made["id"] in human.output and "heidi" in human.output
    revoked = runner.invoke(app, ["token", "revoke", made["id"]])
    assert revoked.exit_code == 0 and f"revoked token {made['id']}" in revoked.output
    again = runner.invoke(app, ["token", "revoke", made["id"]])
    assert again.exit_code == 2
    assert runner.invoke(app, ["token", "list", "--json"]).stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["--host", "0.0.0.0"],
            {},
            "error: serving on 0.0.0.0 requires API tokens and none exist: create one with "
            "`contextos token create --user NAME`, or bind 127.0.0.1",
        ),
        (
            [],
            {"CONTEXTOS_MCP_AUTH": "required"},
            "error: --auth required but no API tokens exist: create one with "
            "`contextos token create --user NAME`",
        ),
    ],
)
def test_a_server_that_needs_tokens_refuses_to_start_without_any(
    make_repo: RepoMaker, args: list[str], env: dict[str, str], message: str
) -> None:
    repo = make_repo(FILES)
    result = subprocess.run(
        [sys.executable, "-m", "contextos", "mcp", str(repo), "--transport", "http", *args],
        env={**os.environ, "CONTEXTOS_EMBEDDER": "none", **env},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[-1] == message
    assert "Traceback" not in result.stderr


def test_the_rate_limiter_allows_the_burst_then_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=3, clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]
    assert limiter.take("b") == 0.0
    now[0] = 0.5
    assert (limiter.take("a"), limiter.take("a")) == (0.0, 0.5)

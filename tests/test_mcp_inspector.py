"""The MCP server driven by a client nobody here wrote: the official MCP Inspector CLI (Node),
over stdio and over streamable HTTP on loopback.

The Inspector is fetched once per session with ``npx`` into a session-scoped npm cache, pinned
with the TypeScript SDK it speaks through. It is 0.15.0 because later releases require Node 22
and Debian's ``nodejs`` is older. Every Inspector call is one connection (for stdio, one server
process); its result is the JSON it prints, and a JSON-RPC error is a line
``MCP error <code>: <message>`` on stderr with exit status 1.

Left out: what tests/test_mcp_server.py covers with the Python SDK's client (every tool argument,
live refresh, concurrency). The module is skipped when ``npx`` is missing or cannot fetch the
package, so it needs the npm registry once per session.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RepoMaker
from tests.wire import free_port, wait_listening

INSPECTOR = "@modelcontextprotocol/inspector@0.15.0"
SDK = "@modelcontextprotocol/sdk@1.32.2"
TOOLS = {
    "search_code",
    "read_file",
    "remember",
    "recall",
    "forget",
    "build_context",
    "index_status",
}
FILES: dict[str, str | bytes] = {
    "calc.py": "def add_numbers(a, b):\n    return a + b\n",
    "docs/notes.md": "# Notes\n\nThe release checklist lives here.\n",
    ".env": "TOKEN=abc\n",
}
NO_MODEL = "CONTEXTOS_EMBEDDER=none"
MCP_ERROR = re.compile(r"MCP error (-?\d+): (.*)")

pytestmark = pytest.mark.skipif(
    shutil.which("npx") is None,
    reason="npx is not on PATH: install Node.js and npm (Debian: apt-get install nodejs npm)",
)


@dataclass(frozen=True)
class Inspector:
    """``npx ... mcp-inspector --cli`` with its npm environment; ``target`` names the server."""

    command: tuple[str, ...]
    npm_env: dict[str, str]

    def run(self, target: list[str], *options: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.command, *target, *options],
            env={**os.environ, **self.npm_env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def request(self, target: list[str], method: str, *options: str) -> dict[str, Any]:
        """The result of a request that must succeed."""
        proc = self.run(target, "--method", method, *options)
        assert proc.returncode == 0, proc.stderr
        result: dict[str, Any] = json.loads(proc.stdout)
        return result

    def failure(self, target: list[str], method: str, *options: str) -> tuple[int, str]:
        """The JSON-RPC error code and message of a request that must fail."""
        proc = self.run(target, "--method", method, *options)
        assert proc.returncode == 1, proc.stdout
        match = MCP_ERROR.search(proc.stderr)
        assert match is not None, proc.stderr
        return int(match[1]), match[2]

    def tool(self, target: list[str], name: str, **args: str) -> dict[str, Any]:
        options = ["--tool-name", name]
        for key, value in args.items():
            options += ["--tool-arg", f"{key}={value}"]
        return self.request(target, "tools/call", *options)


def structured(result: dict[str, Any]) -> dict[str, Any]:
    """The structured content of a tool result that is not an error."""
    assert result["isError"] is False, result["content"]
    content: dict[str, Any] = result["structuredContent"]
    return content


def refusal(result: dict[str, Any]) -> str:
    """The text of a tool result that is an error."""
    assert result["isError"] is True, result
    (content,) = result["content"]
    assert content["type"] == "text"
    text: str = content["text"]
    return text


@pytest.fixture(scope="session")
def inspector(tmp_path_factory: pytest.TempPathFactory) -> Inspector:
    """The pinned Inspector, downloaded once into a fresh npm cache (skips if npm cannot)."""
    cache = tmp_path_factory.mktemp("npm-cache")
    env = {
        "npm_config_cache": str(cache),
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
    }
    command = ("npx", "--yes", "-p", INSPECTOR, "-p", SDK, "mcp-inspector", "--cli")
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [*command, "--help"],
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"npx could not fetch {INSPECTOR} within 300 s")
    if proc.returncode != 0 or "--cli" not in proc.stdout:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        gist = " | ".join([line for line in lines if "    at " not in line][:4])
        pytest.skip(f"npx could not fetch or run {INSPECTOR}: {gist}")
    print(f"fetched {INSPECTOR} in {time.monotonic() - started:.1f} s")
    return Inspector(command, {**env, "npm_config_prefer_offline": "true"})


@pytest.fixture(params=["stdio", "http"])
def target(request: pytest.FixtureRequest, make_repo: RepoMaker) -> Iterator[list[str]]:
    """The Inspector's target for a server on a fresh repository: a command it starts (stdio,
    the embedder turned off with the Inspector's ``-e``) or the URL of one we started (HTTP)."""
    repo = make_repo(FILES)
    contextos = str(Path(sys.executable).with_name("contextos"))
    if request.param == "stdio":
        yield ["-e", NO_MODEL, contextos, "mcp", str(repo)]
        return
    port = free_port()
    proc = subprocess.Popen(
        [contextos, "mcp", str(repo), "--transport", "http", "--port", str(port)],
        env={**os.environ, "CONTEXTOS_EMBEDDER": "none"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_listening(port, proc)
        yield [f"http://127.0.0.1:{port}/mcp", "--transport", "http"]
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode in (0, 130), err
    assert "Traceback" not in err, err


def test_tools_list_names_exactly_the_seven_tools(inspector: Inspector, target: list[str]) -> None:
    tools = inspector.request(target, "tools/list")["tools"]
    assert sorted(tool["name"] for tool in tools) == sorted(TOOLS)
    assert all(tool["inputSchema"]["type"] == "object" for tool in tools)


def test_search_code_finds_the_function_while_the_index_builds_in_the_background(
    inspector: Inspector, target: list[str]
) -> None:
    deadline = time.monotonic() + 30
    found = structured(inspector.tool(target, "search_code", query="add_numbers"))
    while not found["hits"] and time.monotonic() < deadline:
        time.sleep(0.5)
        found = structured(inspector.tool(target, "search_code", query="add_numbers"))
    hit = found["hits"][0]
    assert (hit["path"], hit["symbol"], hit["start_line"]) == ("calc.py", "add_numbers", 1)
    assert hit["text"] == "def add_numbers(a, b):\n    return a + b"

    status = structured(inspector.tool(target, "index_status"))
    assert (status["files"], status["embedder"], status["error"]) == (2, "none", None)


def test_read_file_refuses_paths_outside_the_root_and_secret_files_as_tool_errors(
    inspector: Inspector, target: list[str]
) -> None:
    notes = structured(inspector.tool(target, "read_file", path="docs/notes.md"))
    assert notes["text"] == FILES["docs/notes.md"]

    outside = refusal(inspector.tool(target, "read_file", path="../etc/passwd"))
    assert "'../etc/passwd' climbs out of the workspace root" in outside
    secret = refusal(inspector.tool(target, "read_file", path=".env"))
    assert "'.env' looks like a secrets file" in secret
    assert "TOKEN" not in outside + secret


def test_remember_then_recall_and_read_the_memory_resource(
    inspector: Inspector, target: list[str]
) -> None:
    text = "The deploy script lives in ops/ship.sh"
    memory = structured(inspector.tool(target, "remember", text=text, tag="deploy"))
    assert (memory["text"], memory["tag"], memory["scope"]) == (text, "deploy", "user")

    hits = structured(inspector.tool(target, "recall", query="deploy script"))["hits"]
    assert [hit["memory"]["id"] for hit in hits] == [memory["id"]]

    uri = f"memory://{memory['id']}"
    (content,) = inspector.request(target, "resources/read", "--uri", uri)["contents"]
    assert (content["uri"], content["mimeType"]) == (uri, "application/json")
    assert json.loads(content["text"]) == memory


def test_reading_an_unknown_memory_is_error_32002_pointing_to_the_list(
    inspector: Inspector, target: list[str]
) -> None:
    uri = "memory://doesnotexist"
    code, message = inspector.failure(target, "resources/read", "--uri", uri)
    assert code == -32002
    assert message == (
        "unknown memory id 'doesnotexist': the memory://list resource lists every memory id"
    )

"""The agent loop under the Anthropic wire format, with concurrent reads, and killed mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from contextos.agent.loop import Agent
from contextos.agent.runs import list_runs, run_files
from contextos.llm.anthropic_chat import AnthropicChat
from contextos.workspace import Workspace
from tests.test_agent_loop import FIX, TEST_CMD, _reply, repo  # noqa: F401
from tests.test_llm_tools import anthropic_tool_reply
from tests.wire import Reply, WireServer


def test_the_anthropic_wire_format_fixes_the_failing_test_too(
    repo: Path,  # noqa: F811
    server: WireServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for var in ("ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    server.queue(
        anthropic_tool_reply([("tu_1", "read_file", {"path": "calc.py"})]),
        anthropic_tool_reply(
            [("tu_2", "edit_file", {"path": "calc.py", "old": "a - b", "new": "a + b"})]
        ),
        anthropic_tool_reply([("tu_3", "finish", {"summary": "fixed"})]),
    )
    ws = Workspace(repo, embedder=None)
    ws.index(embed=False, model="no")
    llm = AnthropicChat(
        "claude-sonnet-5-5",
        base_url=server.url,
        api_key="sk-ant-test",
        timeout=5.0,
        backoff_s=0.001,
    )
    with ws:
        result = Agent(ws, llm, budget=4000, test=TEST_CMD).run("make test_calc.py pass")
    assert (result.status, result.steps, result.test_passed) == ("finished", 3, True)
    second = server.bodies()[1]["messages"]
    results = [
        b
        for m in second
        if isinstance(m["content"], list)
        for b in m["content"]
        if b.get("type") == "tool_result"
    ]
    assert results and results[0]["tool_use_id"] == "tu_1" and "a - b" in str(results[0])


def test_read_only_calls_of_one_turn_overlap_in_time(
    repo: Path,  # noqa: F811
    server: WireServer,
) -> None:
    server.queue(
        _reply(("lint", {"path": "calc.py"}), ("lint", {"path": "test_calc.py"}), ("lint", {})),
        _reply(("finish", {"summary": "linted"})),
    )
    ws = Workspace(repo, embedder=None)
    ws.index(embed=False, model="no")
    from contextos.llm.openai_chat import OpenAIChat

    llm = OpenAIChat(
        "gpt-4.1-mini", base_url=server.url + "/v1", api_key="sk-test", timeout=5.0, backoff_s=0.001
    )
    with ws:
        result = Agent(ws, llm, budget=4000).run("lint everything")
    row = json.loads(run_files(result.run_id).trajectory.read_text().splitlines()[0])
    (s1, e1), (s2, e2), (s3, e3) = row["timings"]
    assert max(s1, s2, s3) < min(e1, e2, e3), row["timings"]  # all three ran at once


def test_a_run_killed_mid_step_leaves_a_readable_trajectory(
    repo: Path,  # noqa: F811
    server: WireServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server.queue(FIX[0], FIX[1], Reply(body=FIX[2].body, delay_s=30))
    env = {
        **os.environ,
        "CONTEXTOS_MODEL": "openai:gpt-4.1-mini",
        "CONTEXTOS_MODEL_BASE_URL": server.url + "/v1",
        "OPENAI_API_KEY": "sk-test",
        "CONTEXTOS_EMBEDDER": "none",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "contextos", "agent", "fix it", "-p", str(repo)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(server.requests) < 3:
            time.sleep(0.05)
        assert len(server.requests) == 3, "the agent never reached its third step"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    (run,) = list_runs()
    assert run["status"] == "unfinished"
    rows = [json.loads(x) for x in run_files(run["run_id"]).trajectory.read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    assert (repo / "calc.py").read_text().endswith("return a + b\n")

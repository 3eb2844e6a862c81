"""The agent loop end to end, against a real loopback server speaking the OpenAI wire format.

The model's turns are recorded answers (tool calls included); everything else is real: the
workspace index, the tools, the test command, the trajectory on disk, the CLI.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from contextos.agent.loop import Agent, Limits
from contextos.agent.runs import run_files
from contextos.llm.openai_chat import OpenAIChat
from contextos.workspace import Workspace
from tests.wire import Reply, WireServer

CALC = "def add(a, b):\n    return a - b\n"
TEST = "from calc import add\n\nassert add(2, 3) == 5, 'add is wrong'\nprint('ok')\n"
TEST_CMD = f"{sys.executable} test_calc.py"


def _reply(*calls: tuple[str, dict[str, Any]], text: str | None = None) -> Reply:
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    if calls:
        message["tool_calls"] = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
            for i, (name, args) in enumerate(calls)
        ]
    return Reply(
        body={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1747300000,
            "model": "gpt-4.1-mini",
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "tool_calls" if calls else "stop",
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        }
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "calc.py").write_text(CALC)
    (root / "test_calc.py").write_text(TEST)
    for cmd in (
        ["init", "-q"],
        ["add", "."],
        ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "start"],
    ):
        subprocess.run(["git", *cmd], cwd=root, check=True, capture_output=True)
    return root


def _agent(root: Path, server: WireServer, **kw: Any) -> tuple[Workspace, Agent]:
    ws = Workspace(root, embedder=None)
    ws.index(embed=False, model="no")
    llm = OpenAIChat(
        "gpt-4.1-mini", base_url=server.url + "/v1", api_key="sk-test", timeout=5.0, backoff_s=0.001
    )
    return ws, Agent(ws, llm, budget=4000, **kw)


FIX = [
    _reply(("read_file", {"path": "calc.py"}), ("grep", {"pattern": "def add"})),
    _reply(("edit_file", {"path": "calc.py", "old": "return a - b", "new": "return a + b"})),
    _reply(("run", {"command": TEST_CMD})),
    _reply(("finish", {"summary": "add now adds"})),
]


def test_a_failing_test_is_fixed_end_to_end(repo: Path, server: WireServer) -> None:
    server.queue(*FIX)
    ws, agent = _agent(repo, server, test=TEST_CMD)
    with ws:
        result = agent.run("make test_calc.py pass")
    assert (result.status, result.steps, result.test_passed) == ("finished", 4, True)
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert "+    return a + b" in result.diff and result.files == ["calc.py"]
    rows = [json.loads(x) for x in run_files(result.run_id).trajectory.read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert [c[0] for c in rows[0]["calls"]] == ["read_file", "grep"]
    assert "def add" in rows[0]["observations"][0][0]
    assert "ok" in rows[2]["observations"][0][0]
    # every request is a window: system, task, history as shaped, the todo list last
    bodies = server.bodies()
    assert [m["role"] for m in bodies[0]["messages"]] == ["system", "user", "user"]
    assert bodies[0]["messages"][-1]["content"].startswith("Todo list:")
    assert {t["function"]["name"] for t in bodies[0]["tools"]} >= {"read_file", "finish"}
    assert any(m.get("tool_call_id") == "call_0" for m in bodies[1]["messages"])
    assert all(r["window"]["tokens"] <= 4000 for r in rows)
    # each row keeps the exact messages that step sent
    assert [r["sent"] for r in rows] == [b["messages"] for b in bodies]
    saved = json.loads(run_files(result.run_id).result.read_text())
    assert (saved["status"], saved["task"]) == ("finished", "make test_calc.py pass")


def test_finish_is_refused_while_the_tests_fail(repo: Path, server: WireServer) -> None:
    server.queue(_reply(("finish", {"summary": "done?"})), *FIX[1:])
    ws, agent = _agent(repo, server, test=TEST_CMD)
    with ws:
        result = agent.run("make test_calc.py pass")
    assert (result.status, result.steps) == ("finished", 4)
    first = json.loads(run_files(result.run_id).trajectory.read_text().splitlines()[0])
    text, error = first["observations"][0]
    assert error and text.startswith("finish refused: the tests fail") and "add is wrong" in text


def test_a_repeating_agent_is_reminded_then_stopped(repo: Path, server: WireServer) -> None:
    server.default = _reply(("read_file", {"path": "calc.py"}))
    ws, agent = _agent(repo, server)
    with ws:
        result = agent.run("look at calc.py")
    assert result.status == "stuck" and "three times" in result.reason
    reminders = [b["messages"][-1]["content"] for b in server.bodies()]
    assert sum("You seem stuck" in r for r in reminders) == 1
    assert result.steps == 4


def test_unknown_tools_and_bad_arguments_are_observations(repo: Path, server: WireServer) -> None:
    bad = _reply(("explode", {}))
    body = bad.body
    server.queue(
        bad,
        Reply(
            body=json.loads(
                json.dumps(body).replace(
                    '"explode", "arguments": "{}"', '"read_file", "arguments": "{oops"'
                )
            )
        ),
        _reply(("finish", {"summary": "gave up"})),
    )
    ws, agent = _agent(repo, server)
    with ws:
        result = agent.run("do something")
    rows = [json.loads(x) for x in run_files(result.run_id).trajectory.read_text().splitlines()]
    assert result.status == "finished"
    assert rows[0]["observations"][0][1] and "explode" in rows[0]["observations"][0][0]
    assert rows[1]["observations"][0][1] and "JSON" in rows[1]["observations"][0][0]


def test_a_dead_model_server_ends_the_run_with_a_clear_error_and_keeps_the_files(
    repo: Path, server: WireServer
) -> None:
    server.queue(FIX[0])  # then HTTP 500 for ever
    ws, agent = _agent(repo, server, limits=Limits(max_steps=10))
    with ws:
        result = agent.run("make test_calc.py pass")
    assert result.status == "error" and "HTTP 500" in result.reason and result.steps == 1
    files = run_files(result.run_id)
    assert len(files.trajectory.read_text().splitlines()) == 1
    assert json.loads(files.result.read_text())["status"] == "error"


def test_cli_runs_the_agent_and_records_a_verdict(
    repo: Path, server: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_memory = json.dumps({"explanation": "a task, not a fact", "memory": "no_memory_needed"})
    server.queue(*FIX, _reply(text=no_memory))
    env = {
        "CONTEXTOS_MODEL": "openai:gpt-4.1-mini",
        "CONTEXTOS_MODEL_BASE_URL": server.url + "/v1",
        "OPENAI_API_KEY": "sk-test",
        "CONTEXTOS_EMBEDDER": "none",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    cli = [sys.executable, "-m", "contextos"]
    done = subprocess.run(
        [*cli, "agent", "make test_calc.py pass", "-p", str(repo), "--test", TEST_CMD, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["status"], result["test_passed"]) == ("finished", True)
    # after the run the memory pipeline read the user's message (the task): nothing to keep
    assert [(m["status"], m["candidate"]) for m in result["memories"]] == [("done", None)]
    assert "make test_calc.py pass" in json.dumps(server.bodies()[-1]["messages"])
    listed = json.loads(
        subprocess.run(
            [*cli, "agent", "runs", "--json"], capture_output=True, text=True, check=True
        ).stdout
    )
    assert listed[0]["run_id"] == result["run_id"] and listed[0]["status"] == "finished"
    shown = subprocess.run(
        [*cli, "agent", "show", result["run_id"], "--step", "2", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(shown.stdout) == server.bodies()[1]["messages"]
    text = subprocess.run(
        [*cli, "agent", "show", result["run_id"], "--step", "2"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--- system" in text and "-> read_file(" in text
    subprocess.run(
        [*cli, "agent", "accept", result["run_id"], "--note", "good"],
        check=True,
        capture_output=True,
    )
    verdict = json.loads(run_files(result["run_id"]).verdict.read_text())
    assert (verdict["verdict"], verdict["note"]) == ("accept", "good")
    bad = subprocess.run([*cli, "agent", "reject", "nope"], capture_output=True, text=True)
    assert bad.returncode != 0 and "invalid run id" in bad.stderr and "Traceback" not in bad.stderr

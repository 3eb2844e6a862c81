"""Best-of-N candidates and ``--until-done`` rounds, end to end against loopback OpenAI servers.

Everything but the model is real: git worktrees, the candidates' threads and workspaces, pytest
as the test command, the diff applied to the main tree, the shared todo list, the CLI.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contextos.agent.best_of import DiffStat, best_of, diff_stat, failing_tests
from contextos.agent.loop import Limits
from contextos.agent.rounds import until_done
from contextos.errors import UserInputError
from contextos.llm.openai_chat import OpenAIChat
from contextos.workspace import Workspace
from tests.test_agent_loop import _reply
from tests.wire import Reply, WireServer

CALC = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a + b\n"
TESTS = (
    "from calc import add, sub\n\n\n"
    "def test_add():\n    assert add(2, 3) == 5\n\n\n"
    "def test_sub():\n    assert sub(5, 3) == 2\n"
)
TEST_CMD = f"{sys.executable} -m pytest -q -p no:cacheprovider test_calc.py"
FIX_ADD = (
    "edit_file",
    {
        "path": "calc.py",
        "old": "add(a, b):\n    return a - b",
        "new": "add(a, b):\n    return a + b",
    },
)
FIX_SUB = (
    "edit_file",
    {
        "path": "calc.py",
        "old": "sub(a, b):\n    return a + b",
        "new": "sub(a, b):\n    return a - b",
    },
)
FINISH = ("finish", {"summary": "fixed"})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "calc.py").write_text(CALC)
    (root / "test_calc.py").write_text(TESTS)
    (root / ".gitignore").write_text("__pycache__/\n")
    for cmd in (
        ["init", "-q"],
        ["add", "."],
        ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "start"],
    ):
        subprocess.run(["git", *cmd], cwd=root, check=True, capture_output=True)
    return root


@pytest.fixture
def servers() -> Iterator[list[WireServer]]:
    with WireServer() as a, WireServer() as b, WireServer() as c:
        yield [a, b, c]


def _llm(server: WireServer) -> OpenAIChat:
    return OpenAIChat(
        "gpt-4.1-mini", base_url=server.url + "/v1", api_key="sk-test", timeout=5.0, backoff_s=0.001
    )


def _worktrees(root: Path) -> list[str]:
    listed = subprocess.run(
        ["git", "worktree", "list", "--porcelain"], cwd=root, capture_output=True, text=True
    ).stdout
    return [line.split(" ", 1)[1] for line in listed.splitlines() if line.startswith("worktree ")]


def test_the_candidate_that_fixes_every_test_wins_and_its_diff_lands_in_the_main_tree(
    repo: Path, servers: list[WireServer]
) -> None:
    # an uncommitted note the candidates must see: the worktrees start from the main tree
    (repo / "NOTES.md").write_text("sub is wrong too\n")
    servers[0].queue(_reply(FIX_ADD), _reply(FIX_SUB), _reply(FINISH))
    servers[1].queue(_reply(FIX_ADD), _reply(FINISH), _reply(FINISH))
    servers[2].queue(_reply(("read_file", {"path": "NOTES.md"})), _reply(FINISH), _reply(FINISH))
    together = threading.Barrier(3)  # make_llm runs on each candidate's thread, all at once
    handed: list[WireServer] = []
    lock = threading.Lock()

    def make_llm() -> OpenAIChat:
        together.wait(timeout=30)
        with lock:
            handed.append(servers[len(handed)])
            return _llm(handed[-1])

    report = best_of(
        repo,
        make_llm,
        "make the tests pass",
        3,
        test=TEST_CMD,
        embedder=None,
        budget=4000,
        limits=Limits(max_steps=3),
    )
    by_outcome = sorted(
        (c.test_passed, c.failed, c.status, c.diff.files, c.diff.lines) for c in report.candidates
    )
    assert by_outcome == [
        (False, 1, "limit", 1, 2),
        (False, 2, "limit", 0, 0),
        (True, 0, "finished", 1, 4),
    ]
    winner = report.candidates[report.winner or 0]
    assert (winner.test_passed, winner.status, report.applied) == (True, "finished", True)
    assert all(winner.score < c.score for c in report.candidates if c is not winner)
    assert len({c.run_id for c in report.candidates}) == 3
    # the main tree now holds the winner's fix, and its uncommitted note is still there
    fixed = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
    assert (repo / "calc.py").read_text() == fixed
    assert (repo / "NOTES.md").read_text() == "sub is wrong too\n"
    assert subprocess.run(TEST_CMD, shell=True, cwd=repo, capture_output=True).returncode == 0
    assert _worktrees(repo) == [str(repo)]
    # the candidate that read the untracked note saw it in its own worktree
    read = next(m for m in servers[2].bodies()[1]["messages"] if m.get("tool_call_id") == "call_0")
    assert "sub is wrong too" in read["content"]


def test_worktrees_are_removed_when_a_candidate_raises(repo: Path) -> None:
    def make_llm() -> OpenAIChat:
        raise RuntimeError("no model today")

    with pytest.raises(RuntimeError, match="no model today"):
        best_of(repo, make_llm, "anything", 2, embedder=None)
    assert _worktrees(repo) == [str(repo)]


def test_best_of_refuses_a_workspace_that_is_not_a_git_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(UserInputError, match="best-of-N needs a git repository"):
        best_of(plain, lambda: _llm(WireServer()), "anything", 2, embedder=None)


def test_scores_read_pytest_summaries_and_diffs() -> None:
    assert failing_tests("...\n==== 2 failed, 3 passed, 1 error in 0.12s ====\n") == 3
    assert failing_tests("Traceback: AssertionError\n") == 1
    patch = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1,2 @@\n-a\n+b\n+c\n"
    assert diff_stat(patch) == DiffStat(files=1, added=2, removed=1)


def test_until_done_runs_a_second_round_from_a_handoff_note_and_stops_when_done(
    repo: Path, servers: list[WireServer]
) -> None:
    todo_open = ("todo", {"items": [{"text": "fix add and sub", "done": False}]})
    todo_closed = ("todo", {"items": [{"text": "fix add and sub", "done": True}]})
    server = servers[0]
    server.queue(
        _reply(todo_open),
        _reply(FIX_ADD),
        _reply(FINISH),  # round 1: finish refused, limit
        _reply(FIX_SUB),
        _reply(todo_closed),
        _reply(FINISH),  # round 2: closed and passing
    )
    with Workspace(repo, embedder=None) as ws:
        ws.index(embed=False, model="no")
        report = until_done(
            ws,
            _llm(server),
            "make the tests pass",
            max_rounds=5,
            test=TEST_CMD,
            budget=8000,
            limits=Limits(max_steps=3),
        )
    assert (report.done, report.reason) == (True, "done after 2 rounds")
    assert [(r.result.status, r.result.test_passed, r.done) for r in report.rounds] == [
        ("limit", False, False),
        ("finished", True, True),
    ]
    assert report.rounds[1].todo == [{"text": "fix add and sub", "done": True}]
    bodies = server.bodies()
    assert len(bodies) == 6
    round_two = bodies[3]["messages"]
    task = round_two[1]["content"]
    assert "You are continuing work started in an earlier session." in task
    assert "Goal: make the tests pass" in task
    assert "round 1 ended limit: step limit 3 reached; the tests fail" in task
    assert "- fix add and sub" in task and "1 file(s), +1 -1 lines: calc.py" in task
    assert task.rstrip().endswith("The task:\nmake the tests pass")
    # the todo list is shared: round 2's first window already shows round 1's open item
    assert round_two[-1]["content"].startswith("Todo list:\n[ ] fix add and sub")
    assert "continuing work" not in bodies[0]["messages"][1]["content"]


def _keyed(request: dict[str, Any]) -> Reply:
    """The next step of a fix by the number of assistant turns already in the window, so any
    number of concurrent candidates sharing one server each get the whole script."""
    script = [_reply(FIX_ADD), _reply(FIX_SUB), _reply(FINISH)]
    done = sum(1 for m in request["body"]["messages"] if m["role"] == "assistant")
    return script[min(done, len(script) - 1)]


def test_cli_best_of_and_until_done_print_their_reports(
    repo: Path, servers: list[WireServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    servers[0].default = _keyed
    env = {
        "CONTEXTOS_MODEL": "openai:gpt-4.1-mini",
        "CONTEXTOS_MODEL_BASE_URL": servers[0].url + "/v1",
        "OPENAI_API_KEY": "sk-test",
        "CONTEXTOS_EMBEDDER": "none",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    cli = [sys.executable, "-m", "contextos", "agent", "make the tests pass", "-p", str(repo)]
    done = subprocess.run(
        [*cli, "--test", TEST_CMD, "--best-of", "2", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["winner"], report["applied"]) == (0, True)  # a tie goes to candidate 0
    assert [c["test_passed"] for c in report["candidates"]] == [True, True]
    assert set(report["candidates"][0]) >= {"run_id", "status", "tokens", "diff", "score"}
    assert _worktrees(repo) == [str(repo)]
    assert "return a + b\n\n\ndef sub(a, b):\n    return a - b" in (repo / "calc.py").read_text()
    subprocess.run(["git", "checkout", "calc.py"], cwd=repo, check=True)
    rounds = subprocess.run(
        [*cli, "--test", TEST_CMD, "--until-done", "--max-rounds", "2"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert rounds.returncode == 0, rounds.stderr
    assert "round 1: run " in rounds.stdout and "done: done after 1 round" in rounds.stdout
    both = subprocess.run([*cli, "--best-of", "2", "--until-done"], capture_output=True, text=True)
    assert both.returncode == 2 and "do not combine" in both.stderr

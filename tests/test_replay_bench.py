"""The replay benchmark's metric and baselines on a tiny hand-made trajectory."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from benchmarks.common.results import REPO_ROOT
from benchmarks.replay.baselines import masked, stubs, truncate
from benchmarks.replay.facts import Fact, call_arguments, needed_facts, recall

from contextos.agent.window import message_text


def _call(command: str) -> dict[str, Any]:
    args = json.dumps({"command": command})
    call = {"function": {"name": "bash", "arguments": args}}
    return {"role": "assistant", "content": "", "tool_calls": [call]}


TRAJ: list[dict[str, Any]] = [
    {"role": "system", "content": "You use a shell."},
    {"role": "user", "content": "Fix pkg/core.py please."},
    _call("grep -n handler pkg/core.py"),
    {"role": "tool", "content": "12:def event_handler():\n90:    return 4096"},
    _call("sed -n 12,20p pkg/core.py"),
    {"role": "tool", "content": "def event_handler():\n    pass"},
    _call("grep -n event_handler pkg/core.py pkg/extra/util.py 4096 7"),
]


def test_needed_facts_are_in_the_history_not_in_the_task_with_their_last_line() -> None:
    texts = [message_text(m) for m in TRAJ]
    facts = needed_facts(call_arguments(TRAJ[6]), "\n".join(texts[:2]), "\n".join(texts[:6]))
    # "command" (the JSON key) is in earlier calls; "pkg/core.py" is in the task; the path
    # pattern's "pkg/extra/util.py" and the identifier "extra" are nowhere earlier; "7" is short.
    assert facts == [
        Fact("command", '{"command": "sed -n 12,20p pkg/core.py"}'),
        Fact("event_handler", "def event_handler():"),
        Fact("4096", "90:    return 4096"),
    ]


def test_recall_counts_whole_source_lines_and_bare_strings() -> None:
    facts = [Fact("event_handler", "def event_handler():"), Fact("4096", "90:    return 4096")]
    assert recall(facts, "x def event_handler(): y\n4096") == (1, 2)
    assert recall(facts, "") == (0, 0)


def test_truncate_keeps_the_head_then_the_newest_messages_that_fit() -> None:
    texts = ["s", "u", "a1", "t1", "a2", "t2"]
    assert truncate(texts, [5, 5, 3, 50, 3, 4], 20) == ("s\nu\na2\nt2", 17)
    assert truncate(texts, [5, 5, 3, 4, 30, 4], 20) == ("s\nu\nt2", 14)  # stops at a misfit
    assert truncate(texts, [15, 15, 1, 1, 1, 1], 20) == ("s\nu", 30)  # the head always


def test_mask_stubs_tool_outputs_older_than_the_last_ten() -> None:
    roles = ["system", "user"] + ["assistant", "tool"] * 12
    assert masked(roles, len(roles)) == {3, 5}
    assert masked(roles, 10) == set()
    stub = stubs(TRAJ)
    assert stub[:3] == [None, None, None]
    assert stub[3] is not None and stub[3].startswith(
        '[output of bash(command="grep -n handler pkg/core.py") masked: 2 lines'
    )


def test_help_lists_the_options() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.replay", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
    )
    for option in ("--manifest", "--mirrors", "--budgets", "--out", "--limit"):
        assert option in proc.stdout

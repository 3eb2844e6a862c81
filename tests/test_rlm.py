"""Recursive processing of an input too large for a window (``contextos.agent.rlm``).

The model is scripted (``ScriptedLLM`` replaying tool-call turns, or a loopback server speaking
the OpenAI wire format for the CLI); the input, the tools, the budgets and the report are real.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from contextos.agent.rlm import Rlm, RlmNode, load_input
from contextos.errors import UserInputError
from contextos.llm.scripted import ScriptedLLM
from tests.wire import Reply, WireServer

LINE = 50
NEEDLE_LINE = 31337
NEEDLE = "031337 ERROR vault code is PURPLE-OTTER-42".ljust(LINE - 1)


def _log() -> str:
    """2,000,000 characters: 40,000 log lines of 50 characters, one of them the needle."""
    lines = [
        f"{i:06d} INFO worker-{i % 7} served a request in {i % 97:02d} ms" for i in range(40000)
    ]
    lines[NEEDLE_LINE - 1] = NEEDLE
    return "".join(line.ljust(LINE - 1) + "\n" for line in lines)


LOG = _log()
AT = LOG.index(NEEDLE)


def _calls(*calls: tuple[str, Any]) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": args} for name, args in calls]}


def _observations(llm: ScriptedLLM) -> list[str]:
    """The tool results the model saw, in order (the last call's messages hold them all)."""
    return [m["content"] for m in llm.calls[-1] if m["role"] == "tool"]


def test_a_needle_in_two_megabytes_is_found_with_grep_slice_and_a_sub_query() -> None:
    assert (len(LOG), AT) == (2_000_000, (NEEDLE_LINE - 1) * LINE)
    piece = (AT - 10 * LINE, AT + 10 * LINE)
    root = ScriptedLLM(
        turns=[
            _calls(("length", {})),
            _calls(("grep", {"pattern": "ERROR", "context_lines": 1})),
            _calls(("slice", {"start": AT - 5, "end": AT + LINE})),
            _calls(("sub_query", {"start": piece[0], "end": piece[1], "question": "The code?"})),
            _calls(("answer", {"text": "PURPLE-OTTER-42"})),
        ]
    )
    sub = ScriptedLLM(
        turns=[
            _calls(("grep", {"pattern": r"vault code is (\S+)"})),
            _calls(("answer", {"text": "the vault code is PURPLE-OTTER-42"})),
        ]
    )

    result = Rlm(root, max_depth=2, max_calls=40, sub_llm=sub).ask("What is the vault code?", LOG)

    assert (result.answer, result.finished, result.reason) == ("PURPLE-OTTER-42", True, "answered")
    assert (result.calls, result.max_depth_reached) == (7, 1)
    assert result.input_tokens > 0 and result.output_tokens > 0
    assert result.tree == RlmNode(
        question="What is the vault code?",
        start=0,
        end=2_000_000,
        depth=0,
        calls=5,
        tool_calls=[
            {"name": "length", "arguments": "{}", "error": False},
            {
                "name": "grep",
                "arguments": '{"pattern": "ERROR", "context_lines": 1}',
                "error": False,
            },
            {
                "name": "slice",
                "arguments": f'{{"start": {AT - 5}, "end": {AT + LINE}}}',
                "error": False,
            },
            {
                "name": "sub_query",
                "arguments": f'{{"start": {piece[0]}, "end": {piece[1]}, "question": "The code?"}}',
                "error": False,
            },
            {"name": "answer", "arguments": '{"text": "PURPLE-OTTER-42"}', "error": False},
        ],
        answer="PURPLE-OTTER-42",
        finished=True,
        children=[
            RlmNode(
                question="The code?",
                start=piece[0],
                end=piece[1],
                depth=1,
                calls=2,
                tool_calls=[
                    {
                        "name": "grep",
                        "arguments": '{"pattern": "vault code is (\\\\S+)"}',
                        "error": False,
                    },
                    {
                        "name": "answer",
                        "arguments": '{"text": "the vault code is PURPLE-OTTER-42"}',
                        "error": False,
                    },
                ],
                answer="the vault code is PURPLE-OTTER-42",
                finished=True,
            )
        ],
    )
    before, after = LOG[AT - LINE : AT - 1], LOG[AT + LINE : AT + 2 * LINE - 1]
    assert _observations(root) == [
        "2000000 characters, 40000 lines",
        f"1 matching lines\nline 31336 (char {AT - LINE})- {before}\n"
        f"line 31337 (char {AT}): {NEEDLE}\nline 31338 (char {AT + LINE})- {after}",
        LOG[AT - 5 : AT + LINE],
        f"answer about [{piece[0]}, {piece[1]}): the vault code is PURPLE-OTTER-42",
    ]
    assert "Input: 1000 characters, 20 lines" in sub.calls[0][1]["content"]
    assert _observations(sub) == [f"1 matching lines\nline 11 (char 500): {NEEDLE}"]
    assert all(LOG not in json.dumps(messages) for messages in root.calls)
    assert root.remaining == sub.remaining == 0


def test_slices_are_capped_and_chunks_list_their_boundaries() -> None:
    llm = ScriptedLLM(
        turns=[
            _calls(("chunk", {"size": 700_000}), ("slice", {"start": 0, "end": 20_000})),
            _calls(("slice", {"start": 1_999_990, "end": 3_000_000})),
            "nothing found",
        ]
    )

    result = Rlm(llm).ask("anything odd?", LOG)

    assert (result.answer, result.finished, result.calls) == ("nothing found", True, 3)
    assert _observations(llm) == [
        "3 chunks of 700000 characters: [0, 700000) [700000, 1400000) [1400000, 2000000)",
        LOG[:8000] + "\n[cut at 8000 characters: call slice(start=8000, end=20000) for the rest]",
        LOG[1_999_990:],
    ]


def test_a_sub_query_beyond_max_depth_is_refused_with_an_observation() -> None:
    llm = ScriptedLLM(
        turns=[
            _calls(("sub_query", {"start": 0, "end": 5000, "question": "first part?"})),
            _calls(("sub_query", {"start": 0, "end": 100, "question": "deeper?"})),
            _calls(("answer", {"text": "logs of worker 0"})),
            _calls(("answer", {"text": "workers logging"})),
        ]
    )

    result = Rlm(llm, max_depth=1).ask("what is this?", LOG)

    assert (result.answer, result.calls, result.max_depth_reached) == ("workers logging", 4, 1)
    child = result.tree.children[0]
    assert (child.depth, child.children, child.tool_calls[0]["error"]) == (1, [], True)
    assert _observations(llm)[0] == "answer about [0, 5000): logs of worker 0"
    sub_seen = [m["content"] for m in llm.calls[2] if m["role"] == "tool"]
    assert sub_seen == [
        "sub_query: refused: depth 2 would exceed max_depth 1; "
        "read the piece with slice or grep instead"
    ]


def test_running_out_of_calls_gives_a_partial_answer_that_says_so() -> None:
    llm = ScriptedLLM(
        turns=[
            _calls(
                ("sub_query", {"start": 0, "end": 1000, "question": "errors here?"}),
                ("sub_query", {"start": 1000, "end": 2000, "question": "errors there?"}),
            ),
            _calls(("grep", {"pattern": "ERROR"})),
            _calls(("grep", {"pattern": "WARN"})),
        ]
    )

    result = Rlm(llm, max_depth=2, max_calls=3).ask("any errors?", LOG)

    note = "[partial answer: the budget of 3 model calls ran out]"
    assert (result.finished, result.reason) == (False, "budget of 3 model calls ran out")
    assert (result.calls, result.max_depth_reached, llm.remaining) == (3, 1, 0)
    child = result.tree.children[0]
    assert (child.finished, child.answer) == (False, f"{note} 0 matching lines")
    assert llm.calls[2][-1] == {"role": "user", "content": "This is your last call: answer now."}
    assert result.tree.tool_calls[1]["error"] is True
    assert result.answer == f"{note} answer about [0, 1000): {child.answer}"


def test_malformed_arguments_and_unknown_tools_are_error_observations() -> None:
    llm = ScriptedLLM(
        turns=[
            _calls(
                ("grep", "{not json"),
                ("slice", {"start": "a", "end": 5}),
                ("slice", {"start": 10}),
                ("grep", {"pattern": "("}),
                ("cat", {"path": "/etc/passwd"}),
                ("chunk", {"size": 0}),
                ("slice", {"start": 5, "end": 5, "extra": 1}),
            ),
            _calls(("answer", {"text": "gave up"})),
        ]
    )

    result = Rlm(llm).ask("q", "short input\n")

    assert (result.answer, result.finished) == ("gave up", True)
    assert [c["error"] for c in result.tree.tool_calls] == [True] * 7 + [False]
    seen = _observations(llm)
    assert seen[0].startswith("grep: arguments are not valid JSON (Expecting property name")
    assert seen[1:] == [
        "slice: argument 'start' must be integer, got str",
        "slice: missing argument 'end': slice needs start, end",
        "grep: invalid regular expression '(': missing ), unterminated subpattern at position 0",
        "unknown tool 'cat': the tools are length, slice, grep, chunk, sub_query, answer",
        "chunk: size must be at least 1",
        "slice: unknown argument 'extra': slice takes start, end",
    ]


def test_a_directory_is_its_text_files_under_headers_without_secrets_or_ignored_files(
    tmp_path: Path,
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.log").write_text("alpha\n")
    (tmp_path / "sub" / "b.txt").write_text("beta")
    (tmp_path / ".gitignore").write_text("ignored.txt\n")
    (tmp_path / "ignored.txt").write_text("never\n")
    (tmp_path / ".env").write_text("OPENAI_API_KEY=sk-proj-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c\n")

    text = load_input(tmp_path)

    assert text == (
        "==> .gitignore <==\nignored.txt\n==> a.log <==\nalpha\n==> sub/b.txt <==\nbeta\n"
    )
    llm = ScriptedLLM(turns=[_calls(("grep", {"pattern": "sk-proj|never"})), "not there"])
    assert Rlm(llm).ask("the key?", text).answer == "not there"
    assert _observations(llm) == ["0 matching lines"]
    with pytest.raises(UserInputError, match="holds secrets"):
        load_input(tmp_path / ".env")


def _reply(name: str, args: dict[str, Any]) -> Reply:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(args)},
    }
    message = {"role": "assistant", "content": None, "refusal": None, "tool_calls": [call]}
    return Reply(
        body={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1747300000,
            "model": "gpt-4.1-mini",
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": "tool_calls"}
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        }
    )


def test_cli_answers_with_json_through_an_openai_format_server(
    tmp_path: Path, server: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "app.log"
    log.write_text(LOG[AT - 3 * LINE : AT + 3 * LINE])
    server.queue(
        _reply("grep", {"pattern": "vault"}), _reply("answer", {"text": "PURPLE-OTTER-42"})
    )
    monkeypatch.setenv("CONTEXTOS_MODEL_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    cli = [sys.executable, "-m", "contextos", "rlm"]

    done = subprocess.run(
        [*cli, "the vault code?", "--input", str(log), "--model", "openai:gpt-4.1-mini", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {k: v for k, v in result.items() if k != "tree"} == {
        "answer": "PURPLE-OTTER-42",
        "finished": True,
        "reason": "answered",
        "calls": 2,
        "max_depth_reached": 0,
        "input_tokens": 200,
        "output_tokens": 40,
    }
    assert [c["name"] for c in result["tree"]["tool_calls"]] == ["grep", "answer"]
    bodies = server.bodies()
    assert [t["function"]["name"] for t in bodies[0]["tools"]] == [
        "length",
        "slice",
        "grep",
        "chunk",
        "sub_query",
        "answer",
    ]
    assert bodies[1]["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": f"1 matching lines\nline 4 (char 150): {NEEDLE}",
    }
    missing = subprocess.run(
        [*cli, "q", "--input", str(tmp_path / "nope")], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr

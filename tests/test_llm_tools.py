"""Tool calling (``chat`` → ``Turn``) against a real HTTP server on loopback speaking the OpenAI
``/v1/chat/completions`` and Anthropic ``/v1/messages`` wire formats, replaying recorded answers;
and ``ScriptedLLM`` replaying tool turns."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import pytest

from contextos.errors import ModelError, ModelOutputError
from contextos.llm import (
    AnthropicChat,
    CallRecord,
    OpenAIChat,
    ScriptedLLM,
    ToolCall,
    ToolLLM,
    Turn,
    Usage,
)
from tests.wire import Reply, WireServer

pytestmark = pytest.mark.usefixtures("clean_model_env")


def _openai(url: str, **kw: Any) -> OpenAIChat:
    opts: dict[str, Any] = {"api_key": "sk-test", "timeout": 5.0, "backoff_s": 0.001} | kw
    return OpenAIChat("gpt-4.1-mini", base_url=url + "/v1", **opts)


def _anthropic(url: str, **kw: Any) -> AnthropicChat:
    opts: dict[str, Any] = {"api_key": "sk-ant-test", "timeout": 5.0, "backoff_s": 0.001} | kw
    return AnthropicChat("claude-sonnet-5-5", base_url=url, **opts)


READ_FILE = {
    "name": "read_file",
    "description": "Read one file of the workspace.",
    "parameters": {
        "type": "object",
        "properties": {"path": {"type": "string"}},
        "required": ["path"],
    },
}
SEARCH = {
    "name": "search",
    "description": "Search the code base.",
    "parameters": {
        "type": "object",
        "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}},
        "required": ["query"],
    },
}
TOOLS = [READ_FILE, SEARCH]

TASK: list[dict[str, Any]] = [
    {"role": "system", "content": "You fix bugs."},
    {"role": "user", "content": "Fix the crash in app.py."},
]
AFTER_TWO_CALLS: list[dict[str, Any]] = [
    *TASK,
    {
        "role": "assistant",
        "content": "Let me look.",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "read_file", "arguments": '{"path": "app.py"}'},
            },
            {
                "id": "call_2",
                "type": "function",
                "function": {"name": "search", "arguments": '{"query": "crash", "limit": 3}'},
            },
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "def main():\n    crash()\n"},
    {"role": "tool", "tool_call_id": "call_2", "content": "app.py:2: crash()"},
]


# Recorded answer shapes ----------------------------------------------------------------------


def openai_tool_reply(
    calls: list[tuple[str, str, str]], content: str | None = None, finish: str = "tool_calls"
) -> Reply:
    """``calls`` are (id, name, arguments text)."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if calls:
        message["tool_calls"] = [
            {"id": i, "type": "function", "function": {"name": n, "arguments": a}}
            for i, n, a in calls
        ]
    return Reply(
        body={
            "id": "chatcmpl-BWk3kGOCVhDuJyDsAgM7lUjNZQYgX",
            "object": "chat.completion",
            "created": 1747300000,
            "model": "gpt-4.1-mini-2025-04-14",
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
            ],
            "usage": {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160},
        }
    )


def anthropic_tool_reply(
    calls: list[tuple[str, str, dict[str, Any]]], text: str = "", stop: str = "tool_use"
) -> Reply:
    """``calls`` are (id, name, input)."""
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    blocks += [{"type": "tool_use", "id": i, "name": n, "input": a} for i, n, a in calls]
    return Reply(
        body={
            "id": "msg_01Aq9w938a90dw8q",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-5-5-20250929",
            "content": blocks,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": 120, "output_tokens": 40},
        }
    )


def _without_latency(turn: Turn) -> Turn:
    usage = Usage(turn.usage.input_tokens, turn.usage.output_tokens, 0.0)
    return Turn(turn.text, turn.tool_calls, usage, turn.model, turn.stop_reason)


# ---------------------------------------------------------------------------------------------
# OpenAI


def test_openai_turn_with_two_tool_calls_is_parsed_in_order(server: WireServer) -> None:
    server.queue(
        openai_tool_reply(
            [
                ("call_Xh3", "read_file", '{"path": "app.py"}'),
                ("call_Yq7", "search", '{"query": "crash()"}'),
            ]
        )
    )
    with _openai(server.url) as llm:
        turn = llm.chat(TASK, tools=TOOLS)

    assert isinstance(llm, ToolLLM)
    assert _without_latency(turn) == Turn(
        text="",
        tool_calls=[
            ToolCall("call_Xh3", "read_file", '{"path": "app.py"}'),
            ToolCall("call_Yq7", "search", '{"query": "crash()"}'),
        ],
        usage=Usage(120, 40, 0.0),
        model="openai:gpt-4.1-mini",
        stop_reason="tool_calls",
    )
    assert turn.usage.latency_ms > 0
    assert llm.log == [CallRecord("openai:gpt-4.1-mini", turn.usage, 1)]


def test_openai_request_carries_function_tools_and_tool_results_as_given(
    server: WireServer,
) -> None:
    server.queue(
        openai_tool_reply([], content="Fixed: main no longer calls crash().", finish="stop")
    )
    with _openai(server.url) as llm:
        turn = llm.chat(AFTER_TWO_CALLS, tools=TOOLS, temperature=0.2)

    assert (turn.text, turn.tool_calls, turn.stop_reason) == (
        "Fixed: main no longer calls crash().",
        [],
        "stop",
    )
    [request] = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["body"] == {
        "model": "gpt-4.1-mini",
        "messages": AFTER_TWO_CALLS,
        "temperature": 0.2,
        "tools": [
            {"type": "function", "function": READ_FILE},
            {"type": "function", "function": SEARCH},
        ],
    }


def test_openai_without_tools_sends_no_tools_key(server: WireServer) -> None:
    server.queue(openai_tool_reply([], content="Hello.", finish="stop"))
    with _openai(server.url) as llm:
        assert llm.chat(TASK, tools=[]).text == "Hello."

    assert "tools" not in server.bodies()[0]


def test_openai_malformed_arguments_pass_through_untouched(server: WireServer) -> None:
    broken = '{"path": "app.py", '
    server.queue(openai_tool_reply([("call_1", "read_file", broken)]))
    history = [
        *TASK,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_0", "type": "function", "function": {"name": "x", "arguments": "{"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_0", "content": "arguments are not valid JSON"},
    ]
    with _openai(server.url) as llm:
        turn = llm.chat(history, tools=TOOLS)

    assert turn.tool_calls == [ToolCall("call_1", "read_file", broken)]
    assert server.bodies()[0]["messages"] == history


# ---------------------------------------------------------------------------------------------
# Anthropic


def test_anthropic_turn_with_two_tool_use_blocks_is_parsed_in_order(server: WireServer) -> None:
    server.queue(
        anthropic_tool_reply(
            [
                ("toolu_01A", "read_file", {"path": "app.py"}),
                ("toolu_01B", "search", {"query": "crash()", "limit": 3}),
            ],
            text="I'll read the file and search for callers.",
        )
    )
    with _anthropic(server.url) as llm:
        turn = llm.chat(TASK, tools=TOOLS)

    assert isinstance(llm, ToolLLM)
    assert _without_latency(turn) == Turn(
        text="I'll read the file and search for callers.",
        tool_calls=[
            ToolCall("toolu_01A", "read_file", '{"path": "app.py"}'),
            ToolCall("toolu_01B", "search", '{"query": "crash()", "limit": 3}'),
        ],
        usage=Usage(120, 40, 0.0),
        model="anthropic:claude-sonnet-5-5",
        stop_reason="tool_use",
    )
    assert [json.loads(c.arguments) for c in turn.tool_calls] == [
        {"path": "app.py"},
        {"query": "crash()", "limit": 3},
    ]


def test_anthropic_request_carries_input_schemas_tool_use_and_merged_tool_results(
    server: WireServer,
) -> None:
    server.queue(anthropic_tool_reply([], text="Fixed.", stop="end_turn"))
    with _anthropic(server.url, max_tokens=1024) as llm:
        turn = llm.chat(AFTER_TWO_CALLS, tools=TOOLS, temperature=0.2)

    assert (turn.text, turn.tool_calls, turn.stop_reason) == ("Fixed.", [], "end_turn")
    [request] = server.requests
    assert request["path"] == "/v1/messages"
    assert request["body"] == {
        "model": "claude-sonnet-5-5",
        "max_tokens": 1024,
        "system": "You fix bugs.",
        "tools": [
            {
                "name": "read_file",
                "description": "Read one file of the workspace.",
                "input_schema": READ_FILE["parameters"],
            },
            {
                "name": "search",
                "description": "Search the code base.",
                "input_schema": SEARCH["parameters"],
            },
        ],
        "messages": [
            {"role": "user", "content": "Fix the crash in app.py."},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Let me look."},
                    {
                        "type": "tool_use",
                        "id": "call_1",
                        "name": "read_file",
                        "input": {"path": "app.py"},
                    },
                    {
                        "type": "tool_use",
                        "id": "call_2",
                        "name": "search",
                        "input": {"query": "crash", "limit": 3},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "call_1",
                        "content": "def main():\n    crash()\n",
                    },
                    {
                        "type": "tool_result",
                        "tool_use_id": "call_2",
                        "content": "app.py:2: crash()",
                    },
                ],
            },
        ],
    }


def test_anthropic_user_text_after_tool_results_joins_their_turn(server: WireServer) -> None:
    server.queue(anthropic_tool_reply([], text="ok", stop="end_turn"))
    convo = [*AFTER_TWO_CALLS, {"role": "user", "content": "Budget: 3 steps left."}]
    with _anthropic(server.url) as llm:
        llm.chat(convo, tools=TOOLS)

    last = server.bodies()[0]["messages"][-1]
    assert last["role"] == "user"
    assert [b["type"] for b in last["content"]] == ["tool_result", "tool_result", "text"]
    assert last["content"][-1] == {"type": "text", "text": "Budget: 3 steps left."}


def test_anthropic_malformed_arguments_in_history_become_empty_input_keeping_the_raw_text(
    server: WireServer,
) -> None:
    server.queue(anthropic_tool_reply([], text="ok", stop="end_turn"))
    history = [
        *TASK,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": '{"path": "app.py", '},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "arguments are not valid JSON"},
    ]
    with _anthropic(server.url) as llm:
        llm.chat(history, tools=TOOLS)

    assert server.bodies()[0]["messages"][1] == {
        "role": "assistant",
        "content": [
            {
                "type": "text",
                "text": "(arguments of read_file call call_1, not a JSON object: "
                '{"path": "app.py", )',
            },
            {"type": "tool_use", "id": "call_1", "name": "read_file", "input": {}},
        ],
    }


# ---------------------------------------------------------------------------------------------
# Failures, both providers

Build = Callable[..., OpenAIChat | AnthropicChat]
WIRES = pytest.mark.parametrize(
    ("build", "error"),
    [
        (_openai, {"error": {"message": "boom", "type": "server_error", "code": None}}),
        (_anthropic, {"type": "error", "error": {"type": "api_error", "message": "boom"}}),
    ],
    ids=["openai", "anthropic"],
)


@WIRES
def test_server_500_is_retried_then_a_model_error_saying_so(
    build: Build, error: dict[str, Any], server: WireServer
) -> None:
    server.queue(*(Reply(500, error) for _ in range(3)))
    with build(server.url, max_retries=2) as llm, pytest.raises(ModelError) as caught:
        llm.chat(TASK, tools=TOOLS)

    message = str(caught.value)
    assert message.startswith(f"{llm.name} at {llm.base_url} failed 3 times; last error: HTTP 500")
    assert "boom" in message
    assert len(server.requests) == 3
    assert llm.log == [CallRecord(llm.name, Usage(), 0, error=message)]


@WIRES
def test_server_500_then_success_returns_the_turn(
    build: Build, error: dict[str, Any], server: WireServer
) -> None:
    ok = (
        openai_tool_reply([("c1", "search", '{"query": "x"}')])
        if build is _openai
        else anthropic_tool_reply([("c1", "search", {"query": "x"})])
    )
    server.queue(Reply(500, error), ok)
    with build(server.url) as llm:
        turn = llm.chat(TASK, tools=TOOLS)

    assert turn.tool_calls == [ToolCall("c1", "search", '{"query": "x"}')]
    assert len(server.requests) == 2


@WIRES
def test_no_answer_before_the_timeout_is_a_model_error_saying_so(
    build: Build, error: dict[str, Any], server: WireServer
) -> None:
    server.queue(Reply(delay_s=5))
    with build(server.url, timeout=0.2, max_retries=0) as llm, pytest.raises(ModelError) as c:
        llm.chat(TASK, tools=TOOLS)

    assert str(c.value) == (
        f"{llm.name} at {llm.base_url} failed 1 times; last error: no answer before the timeout"
    )


@WIRES
def test_server_down_is_a_model_error_saying_it_cannot_connect(
    build: Build, error: dict[str, Any]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with build(f"http://127.0.0.1:{port}", max_retries=1) as llm, pytest.raises(ModelError) as c:
        llm.chat(TASK, tools=TOOLS)

    assert str(c.value).startswith(
        f"{llm.name} at {llm.base_url} failed 2 times; last error: cannot connect"
    )


# ---------------------------------------------------------------------------------------------
# ScriptedLLM


def test_scripted_llm_replays_tool_turns_and_records_messages_and_tools() -> None:
    llm = ScriptedLLM(
        turns=[
            {
                "text": "Let me look.",
                "tool_calls": [
                    {"name": "read_file", "arguments": {"path": "app.py"}},
                    {"name": "search", "arguments": '{"query": '},
                ],
            },
            Turn("", [ToolCall("mine", "read_file", "{}")]),
            "Done.",
        ]
    )
    assert isinstance(llm, ToolLLM)
    assert llm.remaining == 3

    first = llm.chat(TASK, tools=TOOLS)
    second = llm.chat(AFTER_TWO_CALLS, tools=[READ_FILE])
    third = llm.chat(AFTER_TWO_CALLS, tools=[])

    assert [(t.text, t.tool_calls, t.model, t.stop_reason) for t in (first, second, third)] == [
        (
            "Let me look.",
            [
                ToolCall("call_1", "read_file", '{"path": "app.py"}'),
                ToolCall("call_2", "search", '{"query": '),
            ],
            "scripted:test",
            "tool_calls",
        ),
        ("", [ToolCall("mine", "read_file", "{}")], "scripted:test", "tool_calls"),
        ("Done.", [], "scripted:test", "stop"),
    ]
    assert llm.calls == [TASK, AFTER_TWO_CALLS, AFTER_TWO_CALLS]
    assert llm.tools == [TOOLS, [READ_FILE], []]
    assert llm.remaining == 0
    with pytest.raises(ModelOutputError, match="no turns left"):
        llm.chat(TASK, tools=TOOLS)


def test_scripted_llm_keeps_answers_for_complete_and_turns_for_chat_apart() -> None:
    llm = ScriptedLLM(["summary"], turns=["final"])

    assert llm.chat(TASK, tools=TOOLS).text == "final"
    assert llm.complete(TASK).text == "summary"
    assert llm.tools == [TOOLS, []]

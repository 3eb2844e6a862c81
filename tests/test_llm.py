"""Chat model adapters against a real HTTP server on loopback speaking the OpenAI
``/v1/chat/completions`` and Anthropic ``/v1/messages`` wire formats, replaying queued answers;
``ScriptedLLM``'s re-ask loop; and ``resolve_llm``."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from contextos.errors import ConfigError, ModelError, ModelOutputError
from contextos.llm import (
    LLM,
    AnthropicChat,
    CallRecord,
    Completion,
    OpenAIChat,
    ScriptedLLM,
    Usage,
    resolve_llm,
)
from contextos.llm.resolve import NO_MODEL_MESSAGE
from contextos.settings import Settings, load_settings
from tests.wire import Reply, WireServer


class Verdict(BaseModel):
    label: str
    score: int


class Ticket(BaseModel):
    __schema_name__: ClassVar[str] = "support_ticket"
    title: str


# ---------------------------------------------------------------------------------------------
# The fake provider: a real server on loopback, replaying recorded answers


pytestmark = pytest.mark.usefixtures("clean_model_env")


# Recorded answer shapes ----------------------------------------------------------------------


def openai_body(content: str, prompt_tokens: int = 21, completion_tokens: int = 7) -> Reply:
    return Reply(
        body={
            "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
            "object": "chat.completion",
            "created": 1741570283,
            "model": "gpt-4.1-mini-2025-04-14",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
            "system_fingerprint": "fp_b376dfbbd5",
        }
    )


def anthropic_body(content: str, input_tokens: int = 21, output_tokens: int = 7) -> Reply:
    """A ``tool_use`` block when ``content`` is a JSON object, else a text block."""
    try:
        tool_input = json.loads(content)
    except ValueError:
        tool_input = None
    if isinstance(tool_input, dict):
        block: dict[str, Any] = {
            "type": "tool_use",
            "id": "toolu_01A09q90qw90lq917835lq9",
            "name": "Verdict",
            "input": tool_input,
        }
        stop = "tool_use"
    else:
        block, stop = {"type": "text", "text": content}, "end_turn"
    return Reply(
        body={
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-5-5-20250929",
            "content": [block],
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        }
    )


def openai_error(status: int, message: str, code: str) -> Reply:
    return Reply(status, {"error": {"message": message, "type": code, "param": None, "code": code}})


def anthropic_error(status: int, message: str, kind: str) -> Reply:
    return Reply(status, {"type": "error", "error": {"type": kind, "message": message}})


@dataclass(frozen=True)
class Wire:
    """One provider's wire format and adapter, for tests that hold for both."""

    name: str
    path: str
    key_env: str
    answer: Callable[..., Reply]
    error: Callable[[int, str, str], Reply]
    build: Callable[..., OpenAIChat | AnthropicChat]


def _openai(server: WireServer | str, **kw: Any) -> OpenAIChat:
    url = server if isinstance(server, str) else server.url
    opts: dict[str, Any] = {"api_key": "sk-test", "timeout": 5.0, "backoff_s": 0.001} | kw
    return OpenAIChat("gpt-4.1-mini", base_url=url + "/v1", **opts)


def _anthropic(server: WireServer | str, **kw: Any) -> AnthropicChat:
    url = server if isinstance(server, str) else server.url
    opts: dict[str, Any] = {"api_key": "sk-ant-test", "timeout": 5.0, "backoff_s": 0.001} | kw
    return AnthropicChat("claude-sonnet-5-5", base_url=url, **opts)


OPENAI = Wire(
    "openai:gpt-4.1-mini",
    "/v1/chat/completions",
    "OPENAI_API_KEY",
    openai_body,
    openai_error,
    _openai,
)
ANTHROPIC = Wire(
    "anthropic:claude-sonnet-5-5",
    "/v1/messages",
    "ANTHROPIC_API_KEY",
    anthropic_body,
    anthropic_error,
    _anthropic,
)
WIRES = pytest.mark.parametrize("wire", [OPENAI, ANTHROPIC], ids=["openai", "anthropic"])

ASK: list[dict[str, str]] = [
    {"role": "system", "content": "You grade answers."},
    {"role": "user", "content": "Grade: 2+2=4"},
]


def _without_latency(completion: Completion) -> Completion:
    return Completion(
        completion.text,
        completion.parsed,
        Usage(completion.usage.input_tokens, completion.usage.output_tokens, 0.0),
        completion.model,
        completion.attempts,
    )


# ---------------------------------------------------------------------------------------------
# Both providers


@WIRES
def test_plain_text_reply_carries_text_usage_latency_and_a_log_record(
    wire: Wire, server: WireServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.queue(wire.answer("Correct.", 30, 2))
    with wire.build(server) as llm:
        result = llm.complete(ASK)

    assert isinstance(llm, LLM)
    assert _without_latency(result) == Completion("Correct.", None, Usage(30, 2, 0.0), wire.name, 1)
    assert result.usage.latency_ms > 0
    assert llm.log == [CallRecord(wire.name, result.usage, 1)]
    assert [r["path"] for r in server.requests] == [wire.path]
    assert capsys.readouterr() == ("", "")


@WIRES
def test_malformed_json_is_re_asked_with_the_validation_error(
    wire: Wire, server: WireServer
) -> None:
    server.queue(wire.answer("Sure! here it is", 10, 4), wire.answer('{"label": "ok", "score": 5}'))
    with wire.build(server) as llm:
        result = llm.complete(ASK, schema=Verdict)

    assert result.parsed == Verdict(label="ok", score=5)
    assert (result.attempts, result.usage.input_tokens, result.usage.output_tokens) == (2, 31, 11)
    first, second = server.bodies()
    reask = second["messages"][-1]
    assert reask["role"] == "user"
    assert reask["content"].startswith("Your reply was not valid JSON for the schema Verdict: ")
    assert "Expecting value" in reask["content"]
    assert second["messages"][-2] == {"role": "assistant", "content": "Sure! here it is"}
    assert len(second["messages"]) == len(first["messages"]) + 2


@WIRES
def test_schema_violation_is_re_asked_naming_the_missing_field(
    wire: Wire, server: WireServer
) -> None:
    server.queue(wire.answer('{"label": "ok"}'), wire.answer('{"label": "ok", "score": 3}'))
    with wire.build(server) as llm:
        result = llm.complete(ASK, schema=Verdict)

    assert result.parsed == Verdict(label="ok", score=3)
    reask = server.bodies()[1]["messages"][-1]["content"]
    assert "1 validation error for Verdict\nscore\n  Field required" in reask


@WIRES
def test_three_malformed_replies_raise_model_output_error_with_the_raw_text(
    wire: Wire, server: WireServer
) -> None:
    server.queue(*(wire.answer(f"not json {i}", 5, 3) for i in range(3)))
    with wire.build(server) as llm, pytest.raises(ModelOutputError) as caught:
        llm.complete(ASK, schema=Verdict)

    assert caught.value.raw_text == "not json 2"
    assert len(server.requests) == 3
    [record] = llm.log
    assert (record.attempts, record.usage.input_tokens, record.usage.output_tokens) == (3, 15, 9)
    assert record.error is not None and "after 2 re-asks" in record.error


@WIRES
def test_rate_limit_waits_for_retry_after_then_succeeds(wire: Wire, server: WireServer) -> None:
    limited = wire.error(429, "Rate limit reached", "rate_limit_error")
    limited.headers = {"retry-after-ms": "300"}
    server.queue(limited, wire.answer("done"))
    with wire.build(server, backoff_s=0.0) as llm:
        started = time.perf_counter()
        result = llm.complete(ASK)
        elapsed = time.perf_counter() - started

    assert result.text == "done"
    assert len(server.requests) == 2
    assert elapsed >= 0.3
    assert result.usage.latency_ms >= 300


@WIRES
def test_retry_after_is_capped(wire: Wire, server: WireServer) -> None:
    status = 529 if wire is ANTHROPIC else 503
    overloaded = wire.error(status, "Overloaded", "overloaded_error")
    overloaded.headers = {"retry-after": "120"}
    server.queue(overloaded, wire.answer("done"))
    with wire.build(server, max_retry_wait_s=0.05) as llm:
        started = time.perf_counter()
        assert llm.complete(ASK).text == "done"

    assert time.perf_counter() - started < 5


@WIRES
def test_server_errors_are_retried_a_bounded_number_of_times(
    wire: Wire, server: WireServer
) -> None:
    server.queue(*(wire.error(500, "boom", "api_error") for _ in range(5)))
    with wire.build(server, max_retries=2) as llm, pytest.raises(ModelError) as caught:
        llm.complete(ASK)

    assert "failed 3 times; last error: HTTP 500" in str(caught.value)
    assert len(server.requests) == 3
    assert llm.log[0].attempts == 0 and llm.log[0].error == str(caught.value)


@WIRES
def test_timeout_is_retried_then_raises_model_error(wire: Wire, server: WireServer) -> None:
    server.queue(Reply(delay_s=5), Reply(delay_s=5))
    with wire.build(server, timeout=0.2, max_retries=1) as llm, pytest.raises(ModelError) as caught:
        llm.complete(ASK)

    assert str(caught.value) == (
        f"{llm.name} at {llm.base_url} failed 2 times; last error: no answer before the timeout"
    )
    assert len(server.requests) == 2


@WIRES
def test_rejected_api_key_names_the_env_var_and_is_not_retried(
    wire: Wire, server: WireServer
) -> None:
    server.queue(wire.error(401, "Incorrect API key provided", "authentication_error"))
    with wire.build(server) as llm, pytest.raises(ModelError) as caught:
        llm.complete(ASK)

    message = str(caught.value)
    assert message.startswith(f"{llm.name} at {llm.base_url} rejected the API key (HTTP 401: ")
    assert message.endswith(f"set {wire.key_env}")
    assert "Incorrect API key provided" in message
    assert len(server.requests) == 1


@WIRES
def test_bad_request_is_not_retried(wire: Wire, server: WireServer) -> None:
    server.queue(wire.error(400, "temperature is not supported", "invalid_request_error"))
    with wire.build(server) as llm, pytest.raises(ModelError, match="refused the request"):
        llm.complete(ASK)

    assert len(server.requests) == 1


@WIRES
def test_unreachable_server_is_a_model_error(wire: Wire) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = f"http://127.0.0.1:{port}"
    with wire.build(closed, max_retries=1) as llm, pytest.raises(ModelError) as caught:
        llm.complete(ASK)

    assert "failed 2 times; last error: cannot connect" in str(caught.value)


# ---------------------------------------------------------------------------------------------
# OpenAI specifics


def test_openai_structured_request_asks_for_strict_json_schema(server: WireServer) -> None:
    server.queue(openai_body('{"label": "ok", "score": 4}'))
    with _openai(server) as llm:
        result = llm.complete(ASK, schema=Verdict, temperature=0.3)

    assert result.parsed == Verdict(label="ok", score=4)
    body = server.requests[0]["body"]
    assert body == {
        "model": "gpt-4.1-mini",
        "messages": ASK,
        "temperature": 0.3,
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "Verdict",
                "schema": {
                    "additionalProperties": False,
                    "properties": {
                        "label": {"title": "Label", "type": "string"},
                        "score": {"title": "Score", "type": "integer"},
                    },
                    "required": ["label", "score"],
                    "title": "Verdict",
                    "type": "object",
                },
                "strict": True,
            },
        },
    }
    assert server.requests[0]["headers"]["authorization"] == "Bearer sk-test"


def test_openai_schema_name_comes_from_a_schema_name_classvar(server: WireServer) -> None:
    server.queue(openai_body('{"title": "printer on fire"}'))
    with _openai(server) as llm:
        assert llm.complete(ASK, schema=Ticket).parsed == Ticket(title="printer on fire")

    assert server.bodies()[0]["response_format"]["json_schema"]["name"] == "support_ticket"


def test_openai_reads_base_url_and_key_from_the_environment(
    server: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    server.queue(openai_body("hi"))
    with OpenAIChat("gpt-4.1-mini") as llm:
        assert llm.complete(ASK).text == "hi"

    assert server.requests[0]["headers"]["authorization"] == "Bearer sk-from-env"


def test_openai_local_server_without_key_gets_a_placeholder_key(server: WireServer) -> None:
    server.queue(openai_body("hi"))
    with OpenAIChat("qwen3:8b", base_url=server.url + "/v1") as llm:
        assert llm.complete(ASK).text == "hi"

    assert server.requests[0]["headers"]["authorization"] == "Bearer not-needed"


def test_openai_remote_endpoint_without_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="needs an API key: set OPENAI_API_KEY"):
        OpenAIChat("gpt-4.1-mini")


# ---------------------------------------------------------------------------------------------
# Anthropic specifics


def _anthropic_key(headers: dict[str, str]) -> str | None:
    """SDK 2.x sends ``Authorization: Bearer``; earlier ones ``x-api-key``."""
    bearer = headers.get("authorization", "").removeprefix("Bearer ")
    return headers.get("x-api-key") or bearer or None


def test_anthropic_sends_system_separately_and_forces_the_schema_tool(
    server: WireServer,
) -> None:
    server.queue(anthropic_body('{"label": "ok", "score": 4}', 40, 12))
    with _anthropic(server, max_tokens=512) as llm:
        result = llm.complete(ASK, schema=Verdict)

    assert _without_latency(result) == Completion(
        '{"label": "ok", "score": 4}',
        Verdict(label="ok", score=4),
        Usage(40, 12, 0.0),
        "anthropic:claude-sonnet-5-5",
        1,
    )
    request = server.requests[0]
    assert request["body"] == {
        "model": "claude-sonnet-5-5",
        "max_tokens": 512,
        "system": "You grade answers.",
        "messages": [{"role": "user", "content": "Grade: 2+2=4"}],
        "tools": [
            {
                "name": "Verdict",
                "description": "Reply with one Verdict object.",
                "input_schema": Verdict.model_json_schema() | {"additionalProperties": False},
            }
        ],
        "tool_choice": {"type": "tool", "name": "Verdict"},
    }
    assert _anthropic_key(request["headers"]) == "sk-ant-test"
    assert "anthropic-version" in request["headers"]


def test_anthropic_falls_back_to_json_in_text_without_a_tool_use_block(
    server: WireServer,
) -> None:
    reply = anthropic_body("x")
    reply.body["content"] = [{"type": "text", "text": '```json\n{"title": "fenced"}\n```'}]
    server.queue(reply)
    with _anthropic(server) as llm:
        result = llm.complete(ASK, schema=Ticket)

    assert result.parsed == Ticket(title="fenced")
    assert server.bodies()[0]["tool_choice"] == {"type": "tool", "name": "support_ticket"}


def test_anthropic_merges_consecutive_turns_of_one_role(server: WireServer) -> None:
    server.queue(anthropic_body("ok"))
    convo = [
        {"role": "system", "content": "A"},
        {"role": "user", "content": "one"},
        {"role": "system", "content": "B"},
        {"role": "user", "content": "two"},
    ]
    with _anthropic(server) as llm:
        llm.complete(convo)

    body = server.bodies()[0]
    assert (body["system"], body["messages"]) == (
        "A\n\nB",
        [{"role": "user", "content": "one\n\ntwo"}],
    )


def test_anthropic_reads_base_url_and_key_from_the_environment(
    server: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-env")
    server.queue(anthropic_body("hi"))
    with AnthropicChat("claude-sonnet-5-5") as llm:
        assert llm.complete(ASK).text == "hi"

    assert _anthropic_key(server.requests[0]["headers"]) == "sk-ant-env"


def test_anthropic_without_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="needs an API key: set ANTHROPIC_API_KEY"):
        AnthropicChat("claude-sonnet-5-5")


# ---------------------------------------------------------------------------------------------
# ScriptedLLM


def test_scripted_llm_re_asks_a_malformed_answer_like_a_real_model() -> None:
    llm = ScriptedLLM(["{oops", '{"label": "fine", "score": 2}'])

    result = llm.complete(ASK, schema=Verdict)

    assert (result.parsed, result.attempts, result.model) == (
        Verdict(label="fine", score=2),
        2,
        "scripted:test",
    )
    assert llm.calls[1][:-1] == [*ASK, {"role": "assistant", "content": "{oops"}]
    assert llm.calls[1][-1]["content"].startswith("Your reply was not valid JSON for the schema")
    assert llm.remaining == 0


def test_scripted_llm_gives_up_after_two_re_asks_keeping_the_raw_text() -> None:
    llm = ScriptedLLM(["a", "b", "c", "unused"])

    with pytest.raises(ModelOutputError) as caught:
        llm.complete(ASK, schema=Verdict)

    assert (caught.value.raw_text, len(llm.calls), llm.remaining) == ("c", 3, 1)


# ---------------------------------------------------------------------------------------------
# resolve_llm


def test_no_model_configured_says_how_to_configure_one() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_llm(Settings())

    assert str(caught.value) == (
        "no model configured: set CONTEXTOS_MODEL=openai:gpt-4.1-mini (with OPENAI_API_KEY), "
        "anthropic:claude-... (with ANTHROPIC_API_KEY) or ollama:qwen3:8b "
        "(with CONTEXTOS_MODEL_BASE_URL if not on localhost:11434)"
    )
    assert str(caught.value) == NO_MODEL_MESSAGE


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("mistral:large", "unknown model provider 'mistral'"),
        ("gpt-4.1-mini", "names no provider"),
        ("scripted:test", "build ScriptedLLM(answers) in code"),
    ],
)
def test_unresolvable_models_are_config_errors(spec: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        resolve_llm(Settings(model=spec))


def test_models_resolve_from_contextos_env_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-x")
    monkeypatch.setenv("CONTEXTOS_MODEL_TIMEOUT_S", "12.5")
    built: list[tuple[str, str, str]] = []
    for spec in ("openai:gpt-4.1-mini", "anthropic:claude-sonnet-5-5", "ollama:qwen3:8b"):
        monkeypatch.setenv("CONTEXTOS_MODEL", spec)
        settings = load_settings()
        llm = resolve_llm(settings)
        assert isinstance(llm, OpenAIChat | AnthropicChat)
        built.append((type(llm).__name__, llm.name, llm.base_url))
        llm.close()

    assert settings.model_timeout_s == 12.5
    assert built == [
        ("OpenAIChat", "openai:gpt-4.1-mini", "https://api.openai.com/v1"),
        ("AnthropicChat", "anthropic:claude-sonnet-5-5", "https://api.anthropic.com"),
        ("OpenAIChat", "ollama:qwen3:8b", "http://localhost:11434/v1"),
    ]


def test_ollama_model_at_a_configured_base_url_answers(
    server: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai-key")
    server.queue(openai_body('{"label": "local", "score": 1}'))
    llm = resolve_llm(
        Settings(model="ollama:qwen3:8b", model_base_url=server.url + "/v1", model_max_retries=0)
    )
    assert isinstance(llm, OpenAIChat)
    with llm:
        assert llm.complete(ASK, schema=Verdict).parsed == Verdict(label="local", score=1)

    assert server.bodies()[0]["model"] == "qwen3:8b"
    assert server.requests[0]["headers"]["authorization"] == "Bearer ollama"

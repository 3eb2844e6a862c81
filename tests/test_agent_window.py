"""The window of one agent step (``contextos.agent.window``): budget, head, pairing, excerpts."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from contextos.agent.window import WindowBuilder, WindowKnobs, is_condensed, message_text
from contextos.tokens import ExactCounter

COUNTER = ExactCounter("o200k_base")


def _call(i: int, command: str) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": f"Step {i}: let me look.",
        "tool_calls": [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": "bash", "arguments": json.dumps({"command": command})},
            }
        ],
    }


def _result(i: int, output: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": f"call_{i}", "content": output}


def history(turns: int = 30, lines: int = 60) -> list[dict[str, Any]]:
    """A task, then ``turns`` bash calls each answered by ``lines`` lines of filler output; turn 2
    greps a definition that is needed at the end."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You solve programming tasks with a shell."},
        {"role": "user", "content": "Fix the crash when parsing empty configs."},
    ]
    for i in range(turns):
        body = [f"line {k} of output number {i}, nothing to see here" for k in range(lines)]
        if i == 2 and lines > 17:
            body[17] = "src/pkg/loader.py:412:def parse_section_header(raw, strict=False):"
        messages += [_call(i, f"cat notes_{i}.txt"), _result(i, "\n".join(body))]
    return messages


def _paired(messages: list[dict[str, Any]]) -> bool:
    """Every tool result follows its assistant call, and every call's results are all sent."""
    open_ids: set[str] = set()
    for m in messages:
        if m["role"] == "tool":
            if m.get("tool_call_id") not in open_ids:
                return False
            open_ids.discard(m["tool_call_id"])
        else:
            if open_ids:
                return False
            open_ids = {c["id"] for c in m.get("tool_calls") or []}
    return not open_ids


def test_a_line_needed_later_survives_a_small_budget() -> None:
    messages = history()
    window = WindowBuilder(COUNTER).window_for(messages, 2000)
    needed = "src/pkg/loader.py:412:def parse_section_header(raw, strict=False):"
    assert needed in window.text
    assert window.tokens <= 2000
    assert 7 in [e[0] for e in window.report.excerpted]  # the tool output of turn 2


def test_the_head_is_always_sent_first_and_whole() -> None:
    messages = history()
    window = WindowBuilder(COUNTER).window_for(messages, 1500)
    assert window.messages[:2] == messages[:2]
    assert window.report.whole[:2] == (0, 1)


def test_a_history_that_fits_is_sent_whole() -> None:
    messages = history(turns=4, lines=5)
    window = WindowBuilder(COUNTER).window_for(messages, 100_000)
    assert window.messages == messages
    assert window.report.dropped == () and window.report.excerpted == ()
    assert window.tokens == sum(COUNTER.count(message_text(m)) for m in messages)


@given(st.integers(min_value=400, max_value=6000), st.integers(min_value=1, max_value=25))
def test_never_over_budget_and_tool_calls_stay_paired(budget: int, turns: int) -> None:
    messages = history(turns=turns, lines=20)
    window = WindowBuilder(COUNTER).window_for(messages, budget)
    assert window.tokens <= budget
    assert window.tokens == sum(COUNTER.count(message_text(m)) for m in window.messages)
    assert window.text == "\n".join(message_text(m) for m in window.messages)
    assert _paired(window.messages[2:])


def test_fed_step_by_step_equals_fed_at_once_and_is_deterministic() -> None:
    messages = history(turns=12, lines=30)
    stepwise = WindowBuilder(COUNTER)
    for t in range(2, len(messages) + 1):
        last = stepwise.window_for(messages[:t], 1200)
    again = WindowBuilder(COUNTER).window_for(messages, 1200)
    assert last == again
    assert WindowBuilder(COUNTER).window_for(messages, 1200) == again


def _script_history(turns: int = 10) -> list[dict[str, Any]]:
    """Turn 0 writes a script (one raw JSON argument line); every later turn prints output whose
    lines each name something new, so that output competes for the room with the old script."""
    script = "cat > check_render.py << 'EOF'\nfrom pkg.render import render_table\n" + "\n".join(
        f"assert render_table(rows_{k}) == expected_{k}" for k in range(8)
    )
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You solve programming tasks with a shell."},
        {"role": "user", "content": "Fix the table renderer."},
        _call(0, script),
        _result(0, "written"),
    ]
    for i in range(1, turns):
        body = [f"result_{i}_{k} = compute_value_{i}_{k}()" for k in range(30)]
        messages += [_call(i, f"python step_{i}.py"), _result(i, "\n".join(body))]
    return messages


def test_a_script_the_agent_wrote_long_ago_outlives_newer_output_lines() -> None:
    messages = _script_history()
    script_line = messages[2]["tool_calls"][0]["function"]["arguments"]
    window = WindowBuilder(COUNTER).window_for(messages, 1500)
    assert script_line in window.text
    flat = WindowKnobs(args_weight=1.0, args_decay=0.7)
    assert script_line not in WindowBuilder(COUNTER, knobs=flat).window_for(messages, 1500).text


def test_the_newest_turn_is_sent_whole_when_it_fits_in_newest_share() -> None:
    messages = history(turns=20, lines=20)
    window = WindowBuilder(COUNTER, knobs=WindowKnobs(whole_share=0.0)).window_for(messages, 3000)
    assert window.messages[-2:] == messages[-2:]
    none = WindowKnobs(whole_share=0.0, newest_share=0.0)
    excerpted = WindowBuilder(COUNTER, knobs=none).window_for(messages, 3000)
    assert excerpted.messages[-1] != messages[-1]


@given(
    st.integers(min_value=300, max_value=5000),
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=0.5, max_value=2.0),
)
def test_any_knobs_keep_the_head_the_budget_and_the_pairing(
    budget: int, whole: float, newest: float, power: float
) -> None:
    messages = _script_history(turns=10)
    knobs = WindowKnobs(whole_share=whole, newest_share=newest, owned_power=power)
    window = WindowBuilder(COUNTER, knobs=knobs).window_for(messages, budget)
    assert window.messages[:2] == messages[:2]
    assert window.tokens <= budget
    assert window.tokens == sum(COUNTER.count(message_text(m)) for m in window.messages)
    assert _paired(window.messages[2:])


def test_the_condensed_message_summarises_older_calls_files_and_the_last_error() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You solve programming tasks with a shell."},
        {"role": "user", "content": "Fix the crash when parsing empty configs."},
    ]
    for i in range(40):
        body = [f"line {k} of output number {i}, nothing to see here" for k in range(60)]
        if i == 5:
            body[30] = "ValueError: bad section header in conf/site.cfg"
        code = 1 if i == 5 else 0
        output = f"<returncode>{code}</returncode>\n" + "\n".join(body)
        messages += [_call(i, f"python run_{i}.py --conf conf/site.cfg"), _result(i, output)]
    window = WindowBuilder(COUNTER).window_for(messages, 8000)
    condensed = window.messages[2]
    assert is_condensed(condensed) and not any(is_condensed(m) for m in messages)
    lines = condensed["content"].split("\n")
    calls = lines.index("calls (newest last):")
    listed = lines[
        calls + 1 : lines.index("last error: ValueError: bad section header in conf/site.cfg")
    ]
    first_whole = window.report.whole[2]
    n = (first_whole - 2) // 2 - 1  # the newest call before the turns sent whole
    assert lines[1] == f"files: run_{n - 2}.py, run_{n - 1}.py, run_{n}.py, conf/site.cfg"
    assert listed == [  # 3 calls per 10,000 tokens of room: 2 at 8k
        f"#{2 + 2 * k} bash "
        + json.dumps({"command": f"python run_{k}.py --conf conf/site.cfg"})
        + " <returncode>0</returncode>"
        for k in (n - 1, n)
    ]
    assert window.text.count("ValueError: bad section header") == 1  # not excerpted again
    bare = WindowBuilder(COUNTER, knobs=WindowKnobs(summary=None)).window_for(messages, 8000)
    assert "calls (newest last):" not in bare.text and "last error:" not in bare.text

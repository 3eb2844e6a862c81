"""The fast subset of the red-team benchmark (``benchmarks.redteam``, issue 10 "Measured"): each
case attacks the real ``contextos`` CLI and MCP server from outside, and none may end in a
traceback, a hang, lost data or a leaked secret. A case that still fails is marked
``xfail(strict=True)`` with the issue 10 item it belongs to, so the mark has to go when the fix
lands. The whole corpus and docs/security.md: ``python -m benchmarks.redteam``."""

from __future__ import annotations

from typing import Any

import pytest
from benchmarks.redteam.harness import run_cases, select
from benchmarks.redteam.verdict import TARGETS, Run, judge_cli

STILL_FAILING: dict[str, str] = {}
"""Case id -> the issue 10 item whose fix has not landed (the reason of its strict xfail)."""

FAST = select(fast=True)


@pytest.fixture(scope="module")
def outcomes() -> dict[str, dict[str, Any]]:
    """Every fast case, run once for the module (about a minute on 2 cores)."""
    return {result["id"]: result for result in run_cases(FAST)}


@pytest.mark.parametrize(
    "case_id",
    [
        pytest.param(
            case.id,
            marks=[pytest.mark.xfail(strict=True, reason=STILL_FAILING[case.id])]
            if case.id in STILL_FAILING
            else [],
        )
        for case in FAST
    ],
)
def test_attack_ends_without_traceback_hang_data_loss_or_leak(
    case_id: str, outcomes: dict[str, dict[str, Any]]
) -> None:
    result = outcomes[case_id]
    assert result["outcome"] not in TARGETS, f"{result['outcome']}: {result['evidence']}"


def test_a_one_line_error_is_clear_and_a_usage_box_is_not() -> None:
    clear = Run("contextos search", 2, "", "error: missing argument 'query'\n")
    boxed = Run("contextos search", 2, "", "Usage: contextos search [OPTIONS] QUERY\n╭─ Error ─╮\n")
    printed = Run("contextos remember", 0, "remembered: key AKIAEXAMPLE", "")
    assert judge_cli(clear).outcome == "clear"
    assert judge_cli(boxed).outcome == "wrong"
    assert judge_cli(printed, "either", ["AKIAEXAMPLE"]).outcome == "leaked"

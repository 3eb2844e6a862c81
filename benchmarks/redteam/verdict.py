"""What happened in one attack, in one word, and the rules that decide the word.

An outcome is one of ``OUTCOMES``, worst last:

* ``ok`` — the product did the right thing (refused quietly, redacted, or just worked);
* ``clear`` — a clear error: one line on stderr starting ``error:`` with exit code 1 or 2, or an
  MCP tool error (or JSON-RPC error) with a message;
* ``wrong`` — none of the four targets below, but not right either: a multi-line error or a
  usage box, an odd exit code, success where the attack should have been refused, a status that
  does not tell the truth;
* ``traceback`` — a Python traceback in any output;
* ``hang`` — the per-case timeout ran out, or processes outlived the run they belonged to;
* ``data_lost`` — a store changed (or lost rows) when the operation failed;
* ``leaked`` — a secret value reached an output, a store, an export or a server.

The targets are zero ``traceback``, ``hang``, ``data_lost`` and ``leaked``. Left out: judging
the wording of an error beyond "one line, says error:".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FAILURES",
    "OUTCOMES",
    "TARGETS",
    "Case",
    "Run",
    "Verdict",
    "judge_cli",
    "judge_tool",
    "worst",
]

OUTCOMES = ("ok", "clear", "wrong", "traceback", "hang", "data_lost", "leaked")
FAILURES = ("wrong", "traceback", "hang", "data_lost", "leaked")
TARGETS = ("traceback", "hang", "data_lost", "leaked")
_TRACEBACK = "Traceback (most recent call last)"
_USAGE = ("Usage:", "╭", "Try '")


@dataclass
class Run:
    """One finished (or timed-out) command: what it printed and how it ended."""

    label: str
    code: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    seconds: float = 0.0

    @property
    def text(self) -> str:
        return self.stdout + "\n" + self.stderr


@dataclass
class Verdict:
    """The outcome of one case and a short excerpt of the evidence for it."""

    outcome: str
    evidence: str

    def __post_init__(self) -> None:
        assert self.outcome in OUTCOMES, self.outcome


@dataclass(frozen=True)
class Case:
    """One attack: ``run(lab)`` performs it through the real entry points and judges it.

    ``fast`` cases make the subset CI runs (``tests/test_redteam.py``)."""

    id: str
    area: str
    title: str
    run: Callable[[Any], Verdict]
    fast: bool = False


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """The worst of several verdicts (the first of equals); ``ok`` for none."""
    best: Verdict | None = None
    for v in verdicts:
        if best is None or OUTCOMES.index(v.outcome) > OUTCOMES.index(best.outcome):
            best = v
    return best or Verdict("ok", "")


def _excerpt(text: str, needle: str | None = None, width: int = 240) -> str:
    text = text.strip()
    if needle and needle in text:
        at = text.index(needle)
        return text[max(0, at - 80) : at + width - 80].strip()
    return text[-width:] if len(text) > width else text


def leaked_in(text: str, secrets: Iterable[str]) -> str | None:
    """The first secret found in ``text``, or None."""
    return next((s for s in secrets if s and s in text), None)


def judge_cli(run: Run, expect: str = "error", secrets: Iterable[str] = ()) -> Verdict:
    """Judge a CLI run. ``expect``: ``error`` (the attack must be refused), ``success`` (it must
    work), ``either`` (working or a clear error are both right)."""
    where = f"`{run.label}`"
    found = leaked_in(run.text, secrets)
    if found:
        return Verdict("leaked", f"{where} printed a secret: {_excerpt(run.text, found)}")
    if _TRACEBACK in run.text:
        last = [line for line in run.text.splitlines() if line.strip()][-1].strip()
        return Verdict("traceback", f"{where}: {last[:200]}")
    if run.timed_out:
        return Verdict("hang", f"{where} still running after {run.seconds:.0f} s")
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    if run.code == 0:
        if expect == "error":
            return Verdict("wrong", f"{where} exited 0: {_excerpt(run.text)}")
        return Verdict("ok", f"{where} exited 0")
    if run.code in (1, 2):
        one_line = len(lines) == 1 and lines[0].startswith("error:")
        boxed = any(mark in run.stderr for mark in _USAGE)
        if one_line and not boxed:
            if expect == "success":
                return Verdict("wrong", f"{where} failed: {lines[0][:240]}")
            return Verdict("clear", f"{where} exit {run.code}: {lines[0][:240]}")
        return Verdict(
            "wrong", f"{where} exit {run.code}, {len(lines)} stderr lines: " + _excerpt(run.stderr)
        )
    return Verdict("wrong", f"{where} exit code {run.code}: {_excerpt(run.text)}")


def judge_tool(
    label: str, reply: dict[str, Any], expect: str = "error", secrets: Iterable[str] = ()
) -> Verdict:
    """Judge an MCP ``tools/call`` reply: ``{"result": ...}`` or ``{"error": ...}`` as sent."""
    text = json.dumps(reply, ensure_ascii=False)
    found = leaked_in(text, secrets)
    if found:
        return Verdict("leaked", f"{label} returned a secret: {_excerpt(text, found)}")
    if "Traceback" in text:
        return Verdict("traceback", f"{label}: {_excerpt(text, 'Traceback')}")
    if "error" in reply:
        message = str(reply["error"].get("message", ""))
        verdict = "wrong" if expect == "success" or not message else "clear"
        return Verdict(verdict, f"{label}: JSON-RPC error {message[:200]!r}")
    result = reply.get("result", {})
    if result.get("isError"):
        message = " ".join(c.get("text", "") for c in result.get("content", []))
        verdict = "wrong" if expect == "success" or not message.strip() else "clear"
        return Verdict(verdict, f"{label}: tool error {message[:200]!r}")
    if expect == "error":
        return Verdict("wrong", f"{label} answered: {_excerpt(text)}")
    return Verdict("ok", f"{label} answered")

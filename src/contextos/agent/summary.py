"""The structured summary of the turns a window no longer sends whole.

Three short sections, each made of the history's own text, never a model's paraphrase:

* ``files:`` the file paths the older calls' arguments named (newest last);
* ``calls:`` the newest older calls, each as its own argument line (``#12 bash {"command":
  "pytest -x"}``) followed by the status its result reported (``<returncode>1</returncode>``,
  ``[exit code 1]``, ``[timed out ...]``), when that line is short enough to repeat;
* ``last error:`` the last line of an older tool result that names an error or exception.

The sections grow with the room the window has for older turns (``SummaryKnobs``): on the
replay benchmark's tune half every line of summary costs excerpted lines the next step needed,
so a tight window gets the last error and a file or two, a roomy one a few calls more.
``WindowBuilder`` reads each message once (``read_part``, when it is fed), puts the summary
under the condensed message's first line and does not excerpt those lines again. Left out: the
todo list (the loop sends it last in every window) and anything that needs a model
(``context.compaction.summarize`` does that, off the step path).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Part", "SummaryKnobs", "read_part", "summary_lines"]

_PATH = re.compile(r"[\w.-]*/[\w./-]*\w\.\w+|[\w-]+\.(?:py|txt|cfg|toml|rst|md|json|yaml|yml)\b")
_STATUS = re.compile(r"<returncode>-?\d+</returncode>|\[exit code -?\d+\]|\[timed out[^\]\n]*\]")
_ERROR = re.compile(r"^\s*[\w.]*(?:Error|Exception|error)\b\S*:? .{3,}")


@dataclass(frozen=True, slots=True)
class SummaryKnobs:
    """How much the summary shows, per 10,000 tokens of room for older turns."""

    calls: float = 3.0
    """Newest older calls listed."""
    files: float = 6.0
    """Newest file paths listed."""
    call_chars: int = 160
    """A call whose argument line is longer is not listed (a script is excerpted instead)."""


@dataclass(frozen=True, slots=True)
class Part:
    """What the summary needs of one history message, read once: its calls (argument line,
    tool name), the paths they name, its status and its last error line."""

    index: int
    role: str
    calls: list[tuple[int, str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    status: str = ""
    error: tuple[int, str] | None = None


def read_part(index: int, message: dict[str, Any], lines: Sequence[str], args_from: int) -> Part:
    """The summary's reading of history message ``index`` (``lines`` as the window splits it;
    its call argument lines start at ``args_from``)."""
    role = str(message["role"])
    if role == "assistant" and message.get("tool_calls"):
        names = [c.get("function", {}).get("name", "?") for c in message["tool_calls"]]
        calls = [
            (j, names[k] if k < len(names) else "?", lines[j].strip())
            for k, j in enumerate(range(args_from, len(lines)))
        ]
        paths = [p for _, _, line in calls for p in _PATH.findall(line)]
        return Part(index, role, calls, paths)
    if role == "tool":
        found = _STATUS.search(str(message.get("content") or ""))
        error = next(
            ((j, lines[j].strip()) for j in range(len(lines) - 1, 0, -1) if _ERROR.match(lines[j])),
            None,
        )
        return Part(index, role, status=found.group(0) if found else "", error=error)
    return Part(index, role)


def summary_lines(
    parts: Sequence[Part], knobs: SummaryKnobs, room: int
) -> tuple[list[str], set[tuple[int, int]]]:
    """The summary of ``parts`` (oldest first) for ``room`` tokens of older turns, and the
    ``(message, line)`` pairs it repeats."""
    n_calls, n_files = int(knobs.calls * room / 10_000), int(knobs.files * room / 10_000)
    files: dict[str, None] = {}
    calls: list[tuple[int, int, str, str]] = []
    status: dict[tuple[int, int], str] = {}
    pending: list[tuple[int, int]] = []
    error: tuple[int, int, str] | None = None
    for part in parts:
        if part.calls:
            pending = [(part.index, j) for j, _, _ in part.calls]
            calls += [(part.index, j, name, line) for j, name, line in part.calls]
            for path in part.paths:
                files.pop(path, None)
                files[path] = None
        elif part.role == "tool":
            if pending and part.status:
                status[pending[0]] = part.status
            pending = pending[1:]
            if part.error is not None:
                error = (part.index, *part.error)
    out: list[str] = []
    used: set[tuple[int, int]] = set()
    if n_files and files:
        out.append("files: " + ", ".join(list(files)[-n_files:]))
    listed = [c for c in calls if len(c[3]) <= knobs.call_chars][-n_calls:] if n_calls else []
    if listed:
        out.append("calls (newest last):")
        for i, j, name, line in listed:
            end = status.get((i, j), "")
            out.append(f"#{i} {name} {line}" + (f" {end}" if end else ""))
            used.add((i, j))
    if error is not None:
        out.append("last error: " + error[2])
        used.add((error[0], error[1]))
    return out, used

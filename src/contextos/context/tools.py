"""Tool specs, disclosed progressively.

Every tool is named in one ``tools`` layer, one line each. A tool's full spec (its parameters)
is a separate ``tool:<name>`` layer whose condition holds only when the tool was used in the
session, is mentioned by name in the task, or is relevant to it (the task shares a keyword with
the tool). The others stay one line: a model that needs one can ask for its spec by name.
``DEFAULT_TOOLS`` are the agent's tools. Left out: provider-native ``tools=`` parameters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from contextos.context.compress import head
from contextos.context.layers import Condition, Layer, State

__all__ = ["DEFAULT_TOOLS", "ToolSpec", "disclosure", "tool_layers"]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool: one-line ``summary``, ``parameters`` (name → description; ``?`` suffix marks
    optional ones) and ``keywords`` that make it relevant to a task."""

    name: str
    summary: str
    parameters: tuple[tuple[str, str], ...] = ()
    keywords: frozenset[str] = frozenset()

    def line(self) -> str:
        return f"- {self.name}: {self.summary}"

    def spec(self) -> str:
        params = [f"  - {name}: {text}" for name, text in self.parameters] or ["  (none)"]
        return "\n".join([f"Tool {self.name}: {self.summary}", "Parameters:", *params])


def _kw(words: str) -> frozenset[str]:
    return frozenset(words.split())


DEFAULT_TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "read_file",
        "read lines of a file in the workspace",
        (("path", "file path relative to the workspace root"), ("start_line?", "first line")),
        _kw("read open show inspect look view file"),
    ),
    ToolSpec(
        "edit_file",
        "replace an exact piece of text in a file",
        (("path", "file path"), ("old", "exact text to replace"), ("new", "replacement text")),
        _kw("edit change fix modify patch rename refactor implement add remove update write"),
    ),
    ToolSpec(
        "search_code",
        "hybrid search over the indexed workspace",
        (("query", "words, identifiers or an error"), ("k?", "number of results")),
        _kw("search find where locate grep usage usages defined definition"),
    ),
    ToolSpec(
        "run_shell",
        "run a shell command in the workspace and return its output",
        (("command", "the command line"), ("timeout_s?", "seconds before it is stopped")),
        _kw("run command shell install build execute script compile"),
    ),
    ToolSpec(
        "run_tests",
        "run the test suite, or some tests, and report failures",
        (("selector?", "test file, node id or keyword"),),
        _kw("test tests pytest failing fails failure verify regression"),
    ),
    ToolSpec(
        "lint",
        "run the linters and type checker on files",
        (("paths?", "files to check"),),
        _kw("lint linter ruff mypy type types typing format style"),
    ),
    ToolSpec(
        "todo",
        "keep a checklist of steps for this task",
        (("items", "the steps, each with done true/false"),),
        _kw("plan steps todo checklist"),
    ),
    ToolSpec(
        "remember",
        "store a memory for later sessions",
        (("text", "what to remember"), ("tag?", "a topic tag")),
        _kw("remember memorize note preference"),
    ),
    ToolSpec(
        "recall",
        "recall memories relevant to a query",
        (("query", "what to recall"), ("k?", "number of memories")),
        _kw("recall remember previous earlier before last time"),
    ),
)

_WORD = re.compile(r"[a-z]+")


def disclosure(tool: ToolSpec, task: str, used: frozenset[str]) -> str | None:
    """Why ``tool``'s full spec is shown (used, mentioned, relevant), or None."""
    if tool.name in used:
        return "used in this session"
    if re.search(rf"\b{re.escape(tool.name)}\b", task):
        return "mentioned in the task"
    hits = sorted(tool.keywords & set(_WORD.findall(task.lower())))
    return f"relevant to the task ({', '.join(hits)})" if hits else None


def _disclosed(tool: ToolSpec) -> Condition:
    def condition(state: State) -> bool:
        return disclosure(tool, state.task, state.tools_used) is not None

    return condition


def tool_layers(tools: Sequence[ToolSpec], state: State) -> list[Layer]:
    """The one-line index of all tools, then one full-spec layer per tool."""
    index = "Tools (full parameters below only for the ones this task needs):\n" + "\n".join(
        t.line() for t in tools
    )
    layers = [Layer(id="tools", content=index, priority=800, placement="system", why="every tool")]
    for tool in tools:
        reason = disclosure(tool, state.task, state.tools_used)
        layers.append(
            Layer(
                id=f"tool:{tool.name}",
                content=tool.spec(),
                priority=550,
                condition=_disclosed(tool),
                compressor=head,
                min_tokens=24,
                placement="system",
                why=f"full spec: {reason}"
                if reason
                else "not used, mentioned or relevant: listed in the one-line index only",
            )
        )
    return layers

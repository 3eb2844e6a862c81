"""The agent's toolbox: the tools a model can call, their JSON schemas, and their observations.

``Toolbox.specs()`` lists the tools (``read_file``, ``edit_file``, ``search``, ``grep``, ``run``,
``lint``, ``todo``, ``remember``, ``finish``); ``Toolbox.call(name, arguments)`` runs one from the
model's raw JSON arguments and always returns an ``Observation``: a bad tool name, bad JSON, a
missing or wrong-typed argument, a refused path and a failed edit are observations with
``error=True``, never exceptions, so the loop shows them to the model and goes on.

Each rule lives in one place and is only called here: paths stay inside the root
(``contextos.paths.confine``), reads follow the MCP server's ``read_file`` rules
(``contextos.mcp_server.files``), ``grep`` searches what a walk sees
(``contextos.walk.text_files``), edits are ``agent.edits``, commands and linters ``agent.shell``.
After every edit the file's linter runs and its findings join the observation (as in Aider).

Threads: ``read_only`` tools (read_file, search, grep, lint) may run concurrently from threads.
The workspace is not thread-safe, so searches are serialized with a lock; the other read-only
tools touch only files and subprocesses. Left out: permissions and confirmations (the loop
decides), undo, and deciding whether ``finish`` is accepted.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contextos.agent.calls import parse_arguments, tool_specs
from contextos.agent.edits import edit_file, numbered, split_lines
from contextos.agent.shell import lint, run_command
from contextos.code.chunking.languages import language_for
from contextos.errors import ContextosError, UserInputError
from contextos.mcp_server.files import read_range
from contextos.memory.store import MemoryStore
from contextos.paths import confine
from contextos.walk import text_files
from contextos.workspace import Workspace

__all__ = ["READ_LINES", "Observation", "Toolbox", "render_todo"]

READ_LINES = 400
"""Lines one ``read_file`` call returns at most."""
_GREP_MATCHES = 100
_GREP_LINE_CHARS = 300
_SEARCH_LINES = 4
_READ_ONLY = frozenset({"read_file", "search", "grep", "lint"})

_S, _I, _B = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
_TODO_ITEM = {
    "type": "object",
    "properties": {"text": _S, "done": _B},
    "required": ["text", "done"],
    "additionalProperties": False,
}
_TOOLS: dict[str, tuple[str, dict[str, dict[str, Any]], tuple[str, ...]]] = {
    "read_file": (
        f"Read a text file of the workspace as numbered lines, at most {READ_LINES} at a time.",
        {"path": _S, "start_line": _I, "end_line": _I},
        ("path",),
    ),
    "edit_file": (
        "Replace the one exact occurrence of `old` in a file by `new` (whitespace included). "
        "With an empty `old` and a missing file, create the file. The file is linted after.",
        {"path": _S, "old": _S, "new": _S},
        ("path", "old", "new"),
    ),
    "search": (
        "Search the workspace's code by meaning and words; ranked chunks with their lines.",
        {"query": _S, "k": _I},
        ("query",),
    ),
    "grep": (
        f"Python regular expression over the workspace's text files (or under `path`); "
        f"at most {_GREP_MATCHES} matching lines.",
        {"pattern": _S, "path": _S},
        ("pattern",),
    ),
    "run": (
        "Run a bash command in the workspace root; shows output (head and tail) and exit code.",
        {"command": _S, "timeout_s": _I},
        ("command",),
    ),
    "lint": ("Lint a file, or the whole workspace without `path`.", {"path": _S}, ()),
    "todo": (
        "Replace your task list with `items` and show it.",
        {"items": {"type": "array", "items": _TODO_ITEM}},
        ("items",),
    ),
    "remember": ("Store a fact worth keeping for later tasks.", {"text": _S}, ("text",)),
    "finish": ("Say the task is done, with a summary of what changed.", {"summary": _S}, ()),
}


@dataclass(frozen=True, slots=True)
class Observation:
    """What a tool call returns to the model: ``text`` to show, ``error`` when the call did not
    do what was asked, and ``data`` for the loop (e.g. ``{"finished": True, ...}``)."""

    text: str
    error: bool = False
    data: dict[str, Any] = field(default_factory=dict)


class Toolbox:
    """The tools of one agent run over ``workspace``; ``run_dir`` holds the run's ``todo.json``.

    ``memory`` enables ``remember``; ``lint_commands`` maps a language (as
    ``contextos.code.chunking.languages.language_for`` names it) to a shell command with a
    ``{path}`` placeholder, overriding the default ruff for Python.
    """

    def __init__(
        self,
        workspace: Workspace,
        *,
        run_dir: Path,
        memory: MemoryStore | None = None,
        lint_commands: dict[str, str] | None = None,
    ) -> None:
        self.workspace = workspace
        self.root = workspace.root
        self.run_dir = run_dir
        self.memory = memory
        self.lint_commands = dict(lint_commands or {})
        self._search_lock = threading.Lock()

    def specs(self) -> list[dict[str, Any]]:
        """One ``{"name", "description", "parameters"}`` per tool, parameters a JSON schema."""
        return tool_specs(_TOOLS)

    @staticmethod
    def read_only(name: str) -> bool:
        """True for tools that change nothing, which the loop may run concurrently."""
        return name in _READ_ONLY

    def call(self, name: str, arguments: str) -> Observation:
        """Run tool ``name`` with the model's raw JSON ``arguments``; never raises for bad input."""
        if name not in _TOOLS:
            return Observation(f"unknown tool {name!r}: the tools are {', '.join(_TOOLS)}", True)
        try:
            args = parse_arguments(_TOOLS, name, arguments)
            return getattr(self, "_" + name)(**args)  # type: ignore[no-any-return]
        except ContextosError as exc:
            return Observation(f"{name}: {exc}", True)
        except OSError as exc:
            return Observation(f"{name}: {exc.strerror or exc} ({exc.filename or ''})", True)

    def todo_items(self) -> list[dict[str, Any]]:
        """The task list as the last ``todo`` call stored it (empty before the first)."""
        try:
            items: list[dict[str, Any]] = json.loads((self.run_dir / "todo.json").read_text())
        except FileNotFoundError:
            return []
        return items

    def _read_file(
        self, path: str, start_line: int = 1, end_line: int | None = None
    ) -> Observation:
        last = start_line + READ_LINES - 1
        got = read_range(
            self.root, path, start_line, last if end_line is None else min(end_line, last)
        )
        lines = split_lines(got.text)
        text = numbered(lines, got.start_line) if lines else "(empty file)"
        wanted_end = got.total_lines if end_line is None else min(end_line, got.total_lines)
        if got.end_line < wanted_end:
            text += (
                f"\n[lines {got.start_line}-{got.end_line} of {got.total_lines}; call read_file "
                f"with start_line={got.end_line + 1} to read more]"
            )
        data = {"path": got.path, "start_line": got.start_line, "end_line": got.end_line}
        return Observation(text, data={**data, "total_lines": got.total_lines})

    def _edit_file(self, path: str, old: str, new: str) -> Observation:
        done = edit_file(self.root, path, old, new)
        verb = "created" if done.created else "edited"
        text = (
            f"{verb} {done.path}: lines {done.start_line}-{done.end_line} now read:\n{done.shown}"
        )
        language = language_for(done.path)
        if language == "python" or language in self.lint_commands:
            text += "\n\n" + lint(self.root, done.path, [language], self.lint_commands)
        return Observation(text, data={"path": done.path, "created": done.created})

    def _search(self, query: str, k: int = 8) -> Observation:
        if not 1 <= k <= 50:
            raise UserInputError(f"k must be between 1 and 50, got {k}")
        with self._search_lock:
            hits = self.workspace.search(query, k=k)
        if not hits:
            return Observation("no results: try other words, or grep for an exact name")
        parts = []
        for hit in hits:
            head = f"{hit.path}:{hit.start_line}-{hit.end_line}" + (
                f"  {hit.symbol}" if hit.symbol else ""
            )
            lines = split_lines(hit.text)[:_SEARCH_LINES]
            parts.append(head + ("\n" + numbered(lines, hit.start_line) if lines else ""))
        return Observation("\n\n".join(parts), data={"results": len(hits)})

    def _grep(self, pattern: str, path: str = "") -> Observation:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            return Observation(f"grep: invalid regular expression {pattern!r}: {exc}", True)
        under = confine(self.root, path).relative_to(self.root).as_posix() if path else ""
        found: list[str] = []
        more = False
        files = text_files(self.root, under, max_file_bytes=self.workspace.settings.max_file_bytes)
        for file in files:
            for number, line in enumerate(split_lines(file.text), 1):
                if regex.search(line):
                    if len(found) == _GREP_MATCHES:
                        more = True
                        break
                    found.append(f"{file.rel}:{number}: {line[:_GREP_LINE_CHARS]}")
            if more:
                break
        text = "\n".join(found) or f"no matches for {pattern!r}"
        if more:
            text += f"\n[stopped at {_GREP_MATCHES} matches: narrow the pattern or the path]"
        return Observation(text, data={"matches": len(found), "complete": not more})

    def _run(self, command: str, timeout_s: int = 120) -> Observation:
        if timeout_s < 1:
            raise UserInputError(f"timeout_s must be at least 1, got {timeout_s}")
        ran = run_command(command, self.root, timeout_s)
        if ran.timed_out:
            end = f"[timed out after {timeout_s} s: the command and its children were killed]"
        else:
            end = f"[exit code {ran.exit_code}]"
        data = {"exit_code": ran.exit_code, "timed_out": ran.timed_out, "seconds": ran.seconds}
        output = ran.output.rstrip("\n")
        text = f"{output}\n{end}" if output else end
        return Observation(text, ran.timed_out, data)

    def _lint(self, path: str = "") -> Observation:
        rel = confine(self.root, path).relative_to(self.root).as_posix() if path else "."
        languages = [language_for(rel)] if path else ["python", *self.lint_commands]
        text = lint(self.root, rel, languages, self.lint_commands)
        return Observation(text, data={"path": rel})

    def _todo(self, items: list[Any]) -> Observation:
        for i, item in enumerate(items):
            if not (
                isinstance(item, dict)
                and set(item) == {"text", "done"}
                and isinstance(item["text"], str)
                and isinstance(item["done"], bool)
            ):
                raise UserInputError(f'items[{i}] must be {{"text": string, "done": boolean}}')
        self.run_dir.mkdir(parents=True, exist_ok=True)
        target = self.run_dir / "todo.json"
        scratch = target.with_suffix(".json.tmp")
        scratch.write_text(json.dumps(items, indent=1), encoding="utf-8")
        os.replace(scratch, target)
        return Observation(render_todo(items) or "(empty task list)", data={"items": items})

    def _remember(self, text: str) -> Observation:
        if self.memory is None:
            return Observation("remember: memory is off for this run; nothing was stored", True)
        memory = self.memory.remember(text, scope="agent", source=f"agent:{self.root}")
        return Observation(f"remembered: {memory.text}", data={"id": memory.id})

    def _finish(self, summary: str = "") -> Observation:
        return Observation(summary or "finished", data={"finished": True, "summary": summary})


def render_todo(items: list[dict[str, Any]]) -> str:
    """A todo list as ``[x] done`` / ``[ ] open`` lines (``""`` when empty)."""
    return "\n".join(f"[{'x' if it.get('done') else ' '}] {it.get('text', '')}" for it in items)

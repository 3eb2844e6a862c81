"""Recursive processing of an input too large for a window (after "Recursive Language Models").

``Rlm(llm, max_depth, max_calls).ask(question, text)`` keeps ``text`` outside the model's window,
as a variable the model reads through tools: ``length()``, ``slice(start, end)`` (at most
``SLICE_CHARS`` characters a call), ``grep(pattern, context_lines)`` (a regex over lines, at most
``GREP_MATCHES`` matches), ``chunk(size)`` (the boundaries of pieces of ``size`` characters),
``sub_query(start, end, question)`` (a fresh conversation on that piece, one level deeper, whose
answer comes back as the observation) and ``answer(text)`` to finish. ``load_input(path)`` turns
a file, or a directory's text files (``contextos.walk.text_files``: ignored and secret files
skipped, secret values redacted) each under a ``==> path <==`` header, into that text.

Budgets: ``max_depth`` bounds the recursion (a deeper ``sub_query`` is refused with an
observation) and ``max_calls`` the model calls of the whole tree (one counter shared by every
level). The model is told when it makes its last call; a level whose budget runs out without an
answer returns a partial answer saying so. A turn with text and no tool call is taken as the
answer. Unknown tools and malformed arguments are error observations, never exceptions; a
failing model raises its ``ModelError``.
``RlmResult`` reports the answer, calls, deepest level, tokens and the tree of sub-queries.
Left out: running model-written code (the paper's REPL), concurrent sub-queries, caching.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from contextos.agent.calls import assistant_message, parse_arguments, tool_specs
from contextos.errors import UserInputError
from contextos.llm.protocol import ChatMessage, ToolLLM
from contextos.secrets import holds_private_key, is_secret_path, redact
from contextos.walk import text_files

__all__ = ["GREP_MATCHES", "SLICE_CHARS", "Rlm", "RlmNode", "RlmResult", "load_input"]

SLICE_CHARS = 8000
"""Characters one ``slice`` call returns at most."""
GREP_MATCHES = 50
"""Matching lines one ``grep`` call shows at most."""
_LINE_CHARS = 300
_CONTEXT_MAX = 5
_BOUNDARIES = 100

_S, _I = {"type": "string"}, {"type": "integer"}
_TOOLS: dict[str, tuple[str, dict[str, dict[str, str]], tuple[str, ...]]] = {
    "length": ("The input's length in characters and lines.", {}, ()),
    "slice": (
        f"The input's characters [start, end), at most {SLICE_CHARS} per call.",
        {"start": _I, "end": _I},
        ("start", "end"),
    ),
    "grep": (
        f"Python regular expression over the input's lines; at most {GREP_MATCHES} matches, "
        f"each with its line number and character offset, and up to {_CONTEXT_MAX} lines of "
        "context either side.",
        {"pattern": _S, "context_lines": _I},
        ("pattern",),
    ),
    "chunk": (
        "How many pieces of `size` characters the input splits into, and their boundaries.",
        {"size": _I},
        ("size",),
    ),
    "sub_query": (
        "Ask `question` about the input's characters [start, end): a fresh assistant with the "
        "same tools answers it from that piece alone.",
        {"start": _I, "end": _I, "question": _S},
        ("start", "end", "question"),
    ),
    "answer": ("Give the final answer to the question and stop.", {"text": _S}, ("text",)),
}
_SYSTEM = (
    "You answer a question about an input too large to read at once. The input is not in this "
    "conversation: it is a variable you inspect with the tools (length, slice, grep, chunk). "
    "Use sub_query to have a helper answer a question about one piece of it. Read only what you "
    "need, then call answer with the final answer."
)


@dataclass
class RlmNode:
    """One level of the recursion: its question, the piece of the parent's input it saw
    (``[start, end)``, the whole input at the root), its depth, the model calls it made, its
    tool calls (``{"name", "arguments", "error"}``), its answer and its sub-queries in order."""

    question: str
    start: int
    end: int
    depth: int
    calls: int = 0
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    answer: str = ""
    finished: bool = False
    children: list[RlmNode] = field(default_factory=list)


@dataclass
class RlmResult:
    """The answer (partial when ``finished`` is false; ``reason`` says why), model calls used by
    the whole tree, the deepest level that ran (root 0), tokens in and out, and the tree."""

    answer: str
    finished: bool
    reason: str
    calls: int
    max_depth_reached: int
    input_tokens: int
    output_tokens: int
    tree: RlmNode

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Budget:
    max_calls: int
    calls: int = 0
    deepest: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


class Rlm:
    """Answers questions about text too large for a window; ``sub_llm`` (default ``llm``)
    answers the sub-queries. ``max_depth`` 0 forbids sub-queries."""

    def __init__(
        self,
        llm: ToolLLM,
        max_depth: int = 2,
        max_calls: int = 40,
        *,
        sub_llm: ToolLLM | None = None,
    ) -> None:
        if max_depth < 0 or max_calls < 1:
            raise UserInputError("max_depth must be at least 0 and max_calls at least 1")
        self.llm, self.sub_llm = llm, sub_llm or llm
        self.max_depth, self.max_calls = max_depth, max_calls

    def ask(self, question: str, text: str) -> RlmResult:
        """Answer ``question`` about ``text``; never raises for what the model does."""
        budget = _Budget(self.max_calls)
        node = RlmNode(question, 0, len(text), 0)
        self._run(self.llm, node, text, budget)
        reason = "answered" if node.finished else f"budget of {self.max_calls} model calls ran out"
        return RlmResult(
            node.answer,
            node.finished,
            reason,
            budget.calls,
            budget.deepest,
            budget.input_tokens,
            budget.output_tokens,
            node,
        )

    def _run(self, llm: ToolLLM, node: RlmNode, text: str, budget: _Budget) -> None:
        budget.deepest = max(budget.deepest, node.depth)
        tools = _Tools(text, self, node, budget)
        messages: list[ChatMessage] = [
            {"role": "system", "content": _SYSTEM},
            {"role": "user", "content": f"Question: {node.question}\n\nInput: {tools.length()}"},
        ]
        specs = tool_specs(_TOOLS)
        last = ""
        while budget.calls < budget.max_calls:
            budget.calls += 1
            node.calls += 1
            if budget.calls == budget.max_calls:
                messages.append({"role": "user", "content": "This is your last call: answer now."})
            turn = llm.chat(messages, tools=specs)
            budget.input_tokens += turn.usage.input_tokens
            budget.output_tokens += turn.usage.output_tokens
            messages.append(assistant_message(turn))
            last = turn.text or last
            if not turn.tool_calls:
                node.answer, node.finished = turn.text, True
                return
            for call in turn.tool_calls:
                text_out, error = tools.call(call.name, call.arguments)
                node.tool_calls.append(
                    {"name": call.name, "arguments": call.arguments, "error": error}
                )
                messages.append({"role": "tool", "tool_call_id": call.id, "content": text_out})
                if node.finished:
                    return
                last = last if error else text_out
        note = f"[partial answer: the budget of {budget.max_calls} model calls ran out]"
        node.answer = f"{note} {last[:1000]}".rstrip()

    def _child(
        self, parent: RlmNode, piece: str, span: tuple[int, int], question: str, budget: _Budget
    ) -> str:
        """Run one level deeper on ``piece``; the caller has checked the depth and the budget."""
        child = RlmNode(question, span[0], span[1], parent.depth + 1)
        parent.children.append(child)
        self._run(self.sub_llm, child, piece, budget)
        return child.answer


class _Tools:
    """The tools of one level over its ``text``: ``call`` returns ``(observation, error)``."""

    def __init__(self, text: str, rlm: Rlm, node: RlmNode, budget: _Budget) -> None:
        self.text, self.rlm, self.node, self.budget = text, rlm, node, budget
        self.lines = text.splitlines(keepends=True)
        self.offsets = [0]
        for line in self.lines:
            self.offsets.append(self.offsets[-1] + len(line))

    def call(self, name: str, raw: str) -> tuple[str, bool]:
        if name not in _TOOLS:
            return f"unknown tool {name!r}: the tools are {', '.join(_TOOLS)}", True
        try:
            return getattr(self, name)(**parse_arguments(_TOOLS, name, raw)), False
        except UserInputError as exc:
            return f"{name}: {exc}", True

    def length(self) -> str:
        return f"{len(self.text)} characters, {len(self.lines)} lines"

    def slice(self, start: int, end: int) -> str:
        start, end = self._span(start, end)
        if end - start <= SLICE_CHARS:
            return self.text[start:end]
        cut = start + SLICE_CHARS
        return (
            f"{self.text[start:cut]}\n[cut at {SLICE_CHARS} characters: call slice(start={cut}, "
            f"end={end}) for the rest]"
        )

    def grep(self, pattern: str, context_lines: int = 0) -> str:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise UserInputError(f"invalid regular expression {pattern!r}: {exc}") from exc
        around = max(0, min(context_lines, _CONTEXT_MAX))
        hits = [i for i, line in enumerate(self.lines) if regex.search(line)]
        groups = [
            "\n".join(
                f"line {j + 1} (char {self.offsets[j]}){':' if j == i else '-'} "
                + self.lines[j].rstrip("\r\n")[:_LINE_CHARS]
                for j in range(max(0, i - around), min(len(self.lines), i + around + 1))
            )
            for i in hits[:GREP_MATCHES]
        ]
        more = f" (first {GREP_MATCHES} shown)" if len(hits) > GREP_MATCHES else ""
        head = f"{len(hits)} matching lines{more}"
        return "\n".join([head, ("\n--\n" if around else "\n").join(groups)]).rstrip("\n")

    def chunk(self, size: int) -> str:
        if size < 1:
            raise UserInputError("size must be at least 1")
        bounds = [(s, min(s + size, len(self.text))) for s in range(0, len(self.text), size)]
        listed = " ".join(f"[{s}, {e})" for s, e in bounds[:_BOUNDARIES])
        more = f" ... (first {_BOUNDARIES} listed)" if len(bounds) > _BOUNDARIES else ""
        return f"{len(bounds)} chunks of {size} characters: {listed}{more}"

    def sub_query(self, start: int, end: int, question: str) -> str:
        depth = self.node.depth + 1
        if depth > self.rlm.max_depth:
            raise UserInputError(
                f"refused: depth {depth} would exceed max_depth {self.rlm.max_depth}; "
                "read the piece with slice or grep instead"
            )
        if self.budget.calls >= self.budget.max_calls:
            raise UserInputError("refused: the model call budget has run out; answer now")
        start, end = self._span(start, end)
        piece = self.text[start:end]
        found = self.rlm._child(self.node, piece, (start, end), question, self.budget)
        return f"answer about [{start}, {end}): {found}"

    def answer(self, text: str) -> str:
        self.node.answer, self.node.finished = text, True
        return "answered"

    def _span(self, start: int, end: int) -> tuple[int, int]:
        start, end = max(0, start), min(end, len(self.text))
        if start >= end:
            raise UserInputError(f"empty range [{start}, {end}): the input has {len(self.text)}")
        return start, end


def load_input(path: Path, *, max_file_bytes: int = 1024 * 1024) -> str:
    """The text of a file, or of a directory's text files each under ``==> path <==``.

    A directory is walked by ``contextos.walk.text_files`` (ignored, secret, binary and
    over-``max_file_bytes`` files skipped; secret values redacted). A file named on its own is
    read whatever its size, refused if it is a secret file, and redacted the same way.
    """
    if path.is_dir():
        files = text_files(path, max_file_bytes=max_file_bytes)
        return "".join(f"==> {f.rel} <==\n" + f.text.removesuffix("\n") + "\n" for f in files)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserInputError(f"cannot read input {path}: {exc.strerror or exc}") from exc
    if is_secret_path(path.name) or holds_private_key(data):
        raise UserInputError(f"refusing to send {path} to a model: it holds secrets")
    return redact(data.decode("utf-8", errors="replace"))

"""The window of one agent step: the task, the newest turns whole, older turns as line excerpts.

Every step the loop asks a ``WindowBuilder`` (fed the growing history, one message at a time)
for a window of at most ``budget`` tokens. The window is made of the history's own text:

1. the head (system prompt and task, the first ``keep_head`` messages), always, whole;
2. the newest turn whole if it fits in ``newest_share`` of what is left, then older turns whole,
   newest first, while they fit in ``whole_share`` of it (a turn is an assistant message with
   the tool results answering it: never split);
3. one ``user`` message after the head that condenses every older turn: its first line says so,
   then a short structured summary of those turns (``agent.summary``: files named, the newest
   calls with their exit status, the last error line), then whole lines: for each path, name
   (6+ characters) and number (3+ digits) seen in the history and not in the task, the *last*
   line that mentions it, chosen greedily by value per exact token cost until the room is
   spent, grouped under a one-line stub per message saying how much was elided.

A line's value is the weighted names it is the last to mention, decayed by its age. A name
weighs more the more of the agent's own calls used it (``uses_power``): the next call reuses the
names of earlier calls and scripts far more than output's (measured on the replay benchmark's
tune half, where a name used in 3+ earlier calls is needed next 60 times as often as a name
only ever seen in output). Lines of call arguments decay slower than output.

An agent reuses what it saw last: the file it listed, the function a grep found, the line number
of an error. Keeping each name's latest line keeps where it was last seen, and costs a line, not
an observation. Per-message work (text, counts, names) is done once, when a message is fed; a
window costs a scan of the candidate lines and one exact count. Left out: model-written
summaries (``context.compaction.summarize``; this runs every step, without a model) and
re-ordering turns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from contextos.agent.summary import Part, SummaryKnobs, read_part, summary_lines
from contextos.context.counting import TokenCounter, count_all

__all__ = [
    "StepWindow",
    "WindowBuilder",
    "WindowKnobs",
    "WindowReport",
    "is_condensed",
    "message_text",
]

Message = dict[str, Any]
_NAMES = (
    re.compile(
        r"[\w.-]*/[\w./-]+|[\w-]+\.(?:py|txt|cfg|toml|rst|md|json|yaml|yml|ini|c|h|js|ts)\b"
    ),
    re.compile(r"\b[A-Za-z_][A-Za-z0-9_]{5,}\b"),
    re.compile(r"\b\d{3,}\b"),
)
_MAX_LINE_CHARS = 20000
_HEADER_COST = 9  # `[#12 tool 3/40]` and its newline


def message_text(message: Message) -> str:
    """What a message costs and says: ``[role]``, its content, its tool-call argument strings."""
    return f"[{message['role']}]\n{message.get('content') or ''}\n{_arguments(message)}"


def _arguments(message: Message) -> str:
    calls = message.get("tool_calls") or []
    return "\n".join(str(c.get("function", {}).get("arguments", "")) for c in calls)


@dataclass(frozen=True, slots=True)
class WindowKnobs:
    """How the room after the head is shared and lines are valued (tuned on the replay
    benchmark's tune half; see docs/benchmarks.md)."""

    whole_share: float = 0.05
    """Fraction of the room after the head for the newest turns, sent whole."""
    newest_share: float = 0.35
    """The newest turn is sent whole if it fits in this fraction of the room after the head."""
    decay: float = 0.92
    """Value of a line per turn of age (a line ``n`` turns old is worth ``decay**n``)."""
    args_weight: float = 1.2
    """Value multiplier of a line of tool-call arguments (a command, a script written)."""
    args_decay: float = 0.95
    """``decay`` for lines of tool-call arguments."""
    prose_weight: float = 1.0
    """Value multiplier of a line of an assistant's own prose."""
    name_weights: tuple[float, float, float] = (0.31, 1.0, 0.44)
    """Weight of a path, an identifier, a number (a line is worth the names it is the last to
    mention): how often the next call reuses each, measured."""
    uses_power: float = 1.24
    """A name's weight grows as (1 + calls whose arguments used it) ** ``uses_power``: the
    agent's next call reuses the names of its own earlier calls far more than output's."""
    owned_power: float = 1.3
    """A line's value grows as (its weighted names) ** ``owned_power``..."""
    count_power: float = -0.3
    """... times (how many names it is the last to mention) ** ``count_power``."""
    summary: SummaryKnobs | None = field(default_factory=SummaryKnobs)
    """The structured summary of older turns (``agent.summary``); ``None``: none."""


@dataclass(frozen=True, slots=True)
class WindowReport:
    """Which history messages (indices) were sent whole, excerpted (kept/total lines), dropped."""

    whole: tuple[int, ...]
    excerpted: tuple[tuple[int, int, int], ...]
    dropped: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class StepWindow:
    """The messages to send (OpenAI format), their text and count, each message's count, and
    the report."""

    messages: list[Message]
    text: str
    tokens: int
    report: WindowReport
    message_tokens: tuple[int, ...] = ()


@dataclass(slots=True)
class _Fed:
    message: Message
    text: str
    tokens: int
    turn: int
    lines: list[str]
    args_from: int
    line_tokens: list[int] = field(default_factory=list)


class WindowBuilder:
    """Fed a history message by message (``feed``), builds the window of the next step."""

    def __init__(
        self, counter: TokenCounter, *, keep_head: int = 2, knobs: WindowKnobs | None = None
    ) -> None:
        self.counter, self.keep_head = counter, keep_head
        self.knobs = knobs or WindowKnobs()
        self._fed: list[_Fed] = []
        self._head_text = ""
        self._latest: dict[str, tuple[int, int]] = {}
        self._owns: dict[tuple[int, int], dict[str, float]] = {}
        self._uses: dict[str, int] = {}
        self._parts: list[Part] = []

    def __len__(self) -> int:
        return len(self._fed)

    def feed(self, messages: Iterable[Message]) -> None:
        """Append messages to the history (counted and indexed once, here)."""
        new = list(messages)
        texts = [message_text(m) for m in new]
        for message, text, tokens in zip(new, texts, count_all(self.counter, texts), strict=True):
            turn = self._turn_of(message)
            lines = text.split("\n")
            n_args = len(_arguments(message).split("\n")) if message.get("tool_calls") else 0
            self._fed.append(_Fed(message, text, tokens, turn, lines, len(lines) - n_args))
            if len(self._fed) <= self.keep_head:
                self._head_text += text + "\n"
            else:
                i = len(self._fed) - 1
                self._index(i, lines)
                self._parts.append(read_part(i, message, lines, self._fed[i].args_from))

    def window_for(self, messages: Sequence[Message], budget: int) -> StepWindow:
        """Feed what of ``messages`` is new (the history only grows), then build the window."""
        self.feed(messages[len(self._fed) :])
        return self.window(budget)

    def _turn_of(self, message: Message) -> int:
        if not self._fed:
            return 0
        last = self._fed[-1]
        joins = message["role"] == "tool" and len(self._fed) > self.keep_head
        return last.turn if joins else last.turn + 1

    def _index(self, i: int, lines: list[str]) -> None:
        args_from = self._fed[i].args_from
        used: set[str] = set()
        for j, line in enumerate(lines):
            found = _names(line)
            for key, kind in found.items():
                if key in self._head_text:
                    continue
                weight = self.knobs.name_weights[kind]
                if j >= args_from:
                    used.add(key)
                old = self._latest.get(key)
                if old is not None:
                    owned = self._owns[old]
                    del owned[key]
                    if not owned:
                        del self._owns[old]
                self._latest[key] = (i, j)
                self._owns.setdefault((i, j), {})[key] = weight
        for key in used:
            self._uses[key] = self._uses.get(key, 0) + 1

    def window(self, budget: int) -> StepWindow:
        """The window of the next step: never over ``budget`` unless the head alone is."""
        fed, head = self._fed, self._fed[: self.keep_head]
        room = budget - sum(f.tokens for f in head)
        first = len(fed)  # the first message sent whole after the head
        share = room * self.knobs.whole_share
        used = 0
        while first > len(head) and room > 0:
            start = first - 1
            while start > len(head) and fed[start].turn == fed[start - 1].turn:
                start -= 1
            cost = sum(f.tokens for f in fed[start:first])
            if used + cost > (room * self.knobs.newest_share if used == 0 else share):
                break
            used, first = used + cost, start
        digest, excerpted = self._digest(first, room - used)
        sent = [f.message for f in head]
        texts, tokens = [f.text for f in head], [f.tokens for f in head]
        if digest is not None:
            sent.append(digest[0])
            texts.append(digest[1])
            tokens.append(digest[2])
        sent += [f.message for f in fed[first:]]
        texts += [f.text for f in fed[first:]]
        tokens += [f.tokens for f in fed[first:]]
        kept = {e[0] for e in excerpted}
        report = WindowReport(
            whole=tuple(range(len(head))) + tuple(range(first, len(fed))),
            excerpted=excerpted,
            dropped=tuple(i for i in range(len(head), first) if i not in kept),
        )
        return StepWindow(sent, "\n".join(texts), sum(tokens), report, tuple(tokens))

    def _digest(
        self, end: int, room: int
    ) -> tuple[tuple[Message, str, int] | None, tuple[tuple[int, int, int], ...]]:
        """The condensing message for history messages before ``end``, within ``room``."""
        if end <= self.keep_head or room <= 0:
            return None, ()
        summary: list[str] = []
        repeated: set[tuple[int, int]] = set()
        if self.knobs.summary is not None:
            parts = self._parts[: end - self.keep_head]
            summary, repeated = summary_lines(parts, self.knobs.summary, room)
        head = "\n".join([_preamble(end - self.keep_head), *summary])
        chosen = self._choose(end, room, head, repeated)
        while True:
            content = self._render(head, chosen)
            message = {"role": "user", "content": content}
            text = message_text(message)
            tokens = self.counter.count(text)
            if tokens <= room and (chosen or summary):
                excerpted = _excerpted(chosen, self._fed)
                return (message, text, tokens), excerpted
            if not chosen:
                return None, ()
            chosen = chosen[: len(chosen) - max(1, len(chosen) // 10)]

    def _choose(
        self, end: int, room: int, head: str, repeated: set[tuple[int, int]]
    ) -> list[tuple[int, int]]:
        """The lines to keep, best value per token first, whose estimated cost fits ``room``."""
        fed, knobs, now = self._fed, self.knobs, self._fed[-1].turn
        up, uses = knobs.uses_power, self._uses
        scored = []
        for (i, j), owned in self._owns.items():
            if i >= end or (i, j) in repeated:
                continue
            f = fed[i]
            if not f.line_tokens:
                f.line_tokens = _line_costs(self.counter, f.lines)
            cost = f.line_tokens[j] + 1
            if j >= f.args_from:
                kind = knobs.args_weight * knobs.args_decay ** (now - f.turn)
            elif f.message["role"] == "assistant":
                kind = knobs.prose_weight * knobs.decay ** (now - f.turn)
            else:
                kind = knobs.decay ** (now - f.turn)
            names = sum(w * (1 + uses.get(k, 0)) ** up for k, w in owned.items())
            value = names**knobs.owned_power * len(owned) ** knobs.count_power * kind
            scored.append((value / cost, i, j, cost))
        scored.sort(key=lambda s: (-s[0], -s[1], s[2]))
        spent = self.counter.count(head) + 8
        heads: set[int] = set()
        chosen = []
        for _, i, j, cost in scored:
            extra = cost + (0 if i in heads else _HEADER_COST)
            if spent + extra > room:
                continue
            spent += extra
            heads.add(i)
            chosen.append((i, j))
        return chosen

    def _render(self, head: str, chosen: list[tuple[int, int]]) -> str:
        by_message: dict[int, list[int]] = {}
        for i, j in sorted(chosen):
            by_message.setdefault(i, []).append(j)
        out = [head]
        for i, rows in by_message.items():
            f = self._fed[i]
            out.append(f"[#{i} {f.message['role']} {len(rows)}/{len(f.lines) - 1}]")
            out += [f.lines[j].rstrip() for j in rows]
        return "\n".join(out)


_CONDENSED = " earlier messages, condensed: "


def _preamble(n: int) -> str:
    return (
        f"[{n}{_CONDENSED}the last line that mentions each path, name and "
        "number, under [#message role lines kept/total]; other lines elided. Run the command "
        "again for a full output.]"
    )


def is_condensed(message: Message) -> bool:
    """Whether ``message`` is the one a window condenses older turns into."""
    content = message.get("content")
    first = content.split("\n", 1)[0] if isinstance(content, str) else ""
    return message["role"] == "user" and first.startswith("[") and _CONDENSED in first


def _excerpted(chosen: list[tuple[int, int]], fed: list[_Fed]) -> tuple[tuple[int, int, int], ...]:
    counts: dict[int, int] = {}
    for i, _ in chosen:
        counts[i] = counts.get(i, 0) + 1
    return tuple((i, n, len(fed[i].lines) - 1) for i, n in sorted(counts.items()))


def _line_costs(counter: TokenCounter, lines: list[str]) -> list[int]:
    """Tokens of each line; a very long line is estimated (3 characters a token) uncounted."""
    short = count_all(counter, [ln if len(ln) <= _MAX_LINE_CHARS else "" for ln in lines])
    return [
        n if len(ln) <= _MAX_LINE_CHARS else len(ln) // 3
        for n, ln in zip(short, lines, strict=True)
    ]


def _names(line: str) -> dict[str, int]:
    """The paths (and their trailing parts), identifiers and numbers of a line, with their kind
    (0 path, 1 identifier, 2 number)."""
    found: dict[str, int] = {}
    for weight, pattern in enumerate(_NAMES):
        for key in pattern.findall(line):
            found.setdefault(key, weight)
            if weight == 0:
                parts = key.split("/")
                for k in range(1, len(parts)):
                    tail = "/".join(parts[k:])
                    if len(tail) >= 3:
                        found.setdefault(tail, weight)
    return found

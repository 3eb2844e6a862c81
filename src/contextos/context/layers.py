"""``Layer``: one candidate piece of a model's window, and ``State``, what its condition sees.

A layer is text (given, or produced on demand by a lazy ``source``) plus the rules the packer
follows: its ``priority``, a ``condition`` over the session ``State``, tokens ``reserved`` for it,
``min_tokens``/``max_tokens`` bounds, a ``compressor`` that shrinks it, and a ``ttl`` in turns for
temporary reminders. ``placement`` says where its text lands in the messages: the system text,
the user-side context (quoted data), the conversation history, or the final task message.
Left out: per-provider message framing (tool-call ids, images); history is plain text turns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from contextos.context.counting import TokenCounter
from contextos.errors import UserInputError

__all__ = ["Compressor", "Condition", "Layer", "Placement", "Role", "State"]

Placement = Literal["system", "context", "history", "task"]
Role = Literal["user", "assistant"]
Compressor = Callable[[str, int, TokenCounter], str]
"""``compress(text, target_tokens, counter)``: a shorter text, ideally counting ≤ target."""


@dataclass(frozen=True, slots=True)
class State:
    """The session facts conditions and reminders depend on. ``turn`` counts model turns."""

    turn: int = 0
    task: str = ""
    consecutive_failures: int = 0
    failures_since: int = 0
    """Turn at which the current failure streak last reached a multiple of three."""
    files_read: frozenset[str] = frozenset()
    unread_edit: str | None = None
    """Path of an edit about to run on a file that was never read in this session."""
    window_utilization: float = 0.0
    """Tokens wanted by every candidate layer, as a fraction of the budget."""
    tools_used: frozenset[str] = frozenset()
    work_paths: tuple[str, ...] = field(default_factory=tuple)
    """Files the task touches: mentioned, read, edited, or found by search."""


Condition = Callable[[State], bool]


@dataclass(frozen=True, slots=True)
class Layer:
    """One candidate block of the window. Exactly one of ``content`` and ``source`` is set.

    ``reserved_tokens`` > 0 makes the layer reserved: it is always included (if its condition
    holds), shrunk to its reservation at worst. ``min_tokens`` is the smallest useful size of a
    compressible layer (never less than its wrapper plus 8 tokens): it is dropped rather than
    shrunk below it. ``wrap`` renders the
    (possibly shrunk) content into the text that is packed; its cost is counted.
    """

    id: str
    content: str | None = None
    source: Callable[[], str] | None = None
    priority: int = 0
    condition: Condition | None = None
    reserved_tokens: int = 0
    min_tokens: int = 0
    max_tokens: int | None = None
    compressor: Compressor | None = None
    ttl: int | None = None
    born: int = 0
    placement: Placement = "context"
    role: Role = "user"
    why: str = ""
    wrap: Callable[[str], str] | None = None
    counted: tuple[str, int] | None = None
    """``(counter name, tokens)``: what the whole rendered layer plus ``SEPARATOR`` costs under
    that counter, when its maker has counted it exactly (``code_fill.select_code`` does). ``pack``
    takes it instead of counting again when it packs with a counter of that name."""

    def __post_init__(self) -> None:
        if (self.content is None) == (self.source is None):
            raise UserInputError(f"layer {self.id!r}: give exactly one of content and source")
        if self.reserved_tokens < 0 or self.min_tokens < 0:
            raise UserInputError(f"layer {self.id!r}: token bounds must not be negative")
        if self.max_tokens is not None and self.max_tokens < self.min_tokens:
            raise UserInputError(f"layer {self.id!r}: max_tokens is below min_tokens")
        if self.ttl is not None and self.ttl < 1:
            raise UserInputError(f"layer {self.id!r}: ttl must be at least 1 turn")

    @property
    def kind(self) -> str:
        """The part of ``id`` before the first colon: ``code``, ``memory``, ``history``..."""
        return self.id.split(":", 1)[0]

    @property
    def reserved(self) -> bool:
        return self.reserved_tokens > 0

    def body(self) -> str:
        """The layer's content, calling the lazy source if there is one."""
        if self.content is not None:
            return self.content
        assert self.source is not None
        return self.source()

    def render(self, body: str) -> str:
        return self.wrap(body) if self.wrap is not None else body

    def expired(self, state: State) -> bool:
        return self.ttl is not None and state.turn >= self.born + self.ttl

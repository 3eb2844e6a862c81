"""Value types of the memory engine: ``Memory``, ``RecallHit``, ``Edge``, ``Fact``, and the rules
for tags, scopes and timestamps they share.

Time is bi-temporal. ``created_at`` is when contextos learned a memory (transaction time);
``valid_from``/``valid_to`` bound when the fact held (valid time). A contradicted or updated
memory gets ``valid_to`` set and ``superseded_by`` pointing at its successor; it is never deleted.
``forgotten_at`` marks an explicit ``forget``: the row stays, recall never returns it.

All datetimes are timezone-aware UTC; a naive datetime passed in is taken to be UTC. They are
stored as fixed-width ISO-8601 text (``2024-05-08T13:56:00.000000Z``) so that SQL string order is
time order. Left out: time zones other than UTC, and fuzzy dates ("last spring").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from contextos.errors import UserInputError

__all__ = [
    "DEFAULT_TAG",
    "SCOPES",
    "Edge",
    "Fact",
    "HistoryEntry",
    "Memory",
    "RecallHit",
    "Scope",
    "check_scope",
    "check_score",
    "check_tag",
    "from_iso",
    "now_utc",
    "slugify_tag",
    "to_iso",
    "to_utc",
]

Scope = Literal["user", "project", "agent"]
SCOPES: tuple[str, ...] = ("user", "project", "agent")
DEFAULT_TAG = "general"
_TAG = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?$")


def now_utc() -> datetime:
    return datetime.now(UTC)


def to_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (naive values are taken to be UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_iso(value: datetime) -> str:
    """Fixed-width UTC text, ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (sorts as time sorts)."""
    v = to_utc(value)
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}"
        f".{v.microsecond:06d}Z"
    )


def from_iso(text: str) -> datetime:
    """Parse what ``to_iso`` wrote, or any ISO-8601 string ``datetime`` understands; a date
    that leaves years 1-9999 once moved to UTC is a ``UserInputError`` too."""
    try:
        return to_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError as exc:
        raise UserInputError(f"not an ISO-8601 date-time: {text[:64]!r}") from exc
    except OverflowError as exc:
        raise UserInputError(
            f"date-time out of range (years 1 to 9999 UTC): {text[:64]!r}"
        ) from exc


def check_tag(tag: str) -> str:
    """A tag is a file name: letters, digits and inner hyphens, at most 64 characters."""
    if not _TAG.match(tag):
        raise UserInputError(
            f"invalid tag {tag!r}: use letters, digits and hyphens (e.g. 'code-style')"
        )
    return tag


def slugify_tag(raw: str) -> str:
    """Turn a model-written tag ("Code style") into a valid one ("code-style")."""
    slug = re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-")[:64].strip("-")
    return slug or DEFAULT_TAG


def check_text(value: str, name: str) -> str:
    """``value``, unless it holds a NUL character: PostgreSQL cannot keep one in a text column,
    so no backend takes one (the same data must fit both, and round-trip between them)."""
    if "\x00" in value:
        raise UserInputError(f"{name} contains a NUL character (\\x00): remove it")
    return value


def check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise UserInputError(f"invalid scope {scope!r}: use one of {', '.join(SCOPES)}")
    return scope


def check_score(score: int) -> int:
    if not 1 <= score <= 5:
        raise UserInputError(f"invalid score {score}: scores run from 1 to 5")
    return score


@dataclass(frozen=True, slots=True)
class Memory:
    """One version of one remembered fact. ``embedding`` is derived data (not compared)."""

    id: str
    text: str
    tag: str = DEFAULT_TAG
    scope: str = "user"
    source: str | None = None
    score: int = 5
    created_at: datetime = field(default_factory=now_utc)
    valid_from: datetime = field(default_factory=now_utc)
    valid_to: datetime | None = None
    superseded_by: str | None = None
    forgotten_at: datetime | None = None
    keywords: tuple[str, ...] = ()
    embedding: NDArray[np.float32] | None = field(default=None, compare=False, repr=False)

    def is_valid(self, at: datetime | None = None) -> bool:
        """Valid at ``at`` (default now): not forgotten and inside its validity interval."""
        when = to_utc(at) if at is not None else now_utc()
        if self.forgotten_at is not None or self.valid_from > when:
            return False
        return self.valid_to is None or self.valid_to > when

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (datetimes as ISO text, no embedding)."""
        return {
            "id": self.id,
            "tag": self.tag,
            "text": self.text,
            "scope": self.scope,
            "source": self.source,
            "score": self.score,
            "created_at": to_iso(self.created_at),
            "valid_from": to_iso(self.valid_from),
            "valid_to": to_iso(self.valid_to) if self.valid_to else None,
            "superseded_by": self.superseded_by,
            "forgotten_at": to_iso(self.forgotten_at) if self.forgotten_at else None,
            "keywords": list(self.keywords),
        }


@dataclass(frozen=True, slots=True)
class RecallHit:
    """A recalled memory and its fused score (higher is better; only the order is meaningful)."""

    memory: Memory
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, **self.memory.to_dict()}


@dataclass(frozen=True, slots=True)
class Edge:
    """An entity–relation edge ``subject --predicate--> object`` valid over an interval."""

    id: int
    subject: str
    predicate: str
    object: str
    scope: str
    source: str | None
    created_at: datetime
    valid_from: datetime
    valid_to: datetime | None


@dataclass(frozen=True, slots=True)
class Fact:
    """A key–value fact; a key has at most one current value per scope."""

    id: int
    key: str
    value: str
    scope: str
    source: str | None
    created_at: datetime
    valid_from: datetime
    valid_to: datetime | None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One append-only history row: what changed, from what to what, and why."""

    id: int
    ts: datetime
    kind: str
    target: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ts": to_iso(self.ts),
            "kind": self.kind,
            "target": self.target,
            "action": self.action,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
        }

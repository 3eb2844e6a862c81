"""``Pack``, the packer's result: what went into the window, as messages, and why.

``Pack.openai_messages()`` gives ``[{"role", "content"}]`` with the system text first;
``Pack.anthropic_messages()`` gives ``(system, messages)`` because the Anthropic API takes the
system text separately. Context layers (quoted data) form the first user message, history layers
follow in order, task layers form the last user message; consecutive messages of one role are
joined. ``SEPARATOR`` joins layer texts; the packer counts it with every layer, so ``used``
bounds the tokens of the message texts. Per-message framing tokens of the APIs are not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from contextos.context.layers import Layer, Placement, Role

__all__ = ["SEPARATOR", "Cause", "LayerReport", "Pack", "Status"]

SEPARATOR = "\n\n"
Status = Literal["included", "truncated", "excluded"]
Cause = Literal["fit", "shrunk", "capped", "condition", "expired", "no_room", "cascade", "over_max"]
_STATUS: dict[Cause, Status] = {"fit": "included", "shrunk": "truncated", "capped": "truncated"}


@dataclass(frozen=True, slots=True)
class LayerReport:
    """The fate of one layer. ``tokens`` is what it costs in the pack (0 when excluded);
    ``full_tokens`` what it would cost whole (0 when its condition kept it from being built).
    The packer stops counting a layer once it knows the layer does not fit, so ``whole`` may be
    a callable that finishes the count: ``full_tokens`` calls it on first use."""

    id: str
    status: Status
    cause: Cause
    reason: str
    tokens: int
    whole: int | Callable[[], int]
    priority: int
    reserved: int
    min_tokens: int
    compressible: bool
    placement: Placement
    role: Role
    why: str
    text: str
    original: str

    @classmethod
    def of(
        cls,
        layer: Layer,
        cause: Cause,
        reason: str,
        full: int | Callable[[], int] = 0,
        original: str = "",
        text: str = "",
        tokens: int = 0,
    ) -> LayerReport:
        """The report of ``layer``; the status follows from the ``cause``."""
        return cls(
            id=layer.id,
            status=_STATUS.get(cause, "excluded"),
            cause=cause,
            reason=reason,
            tokens=tokens,
            whole=full,
            priority=layer.priority,
            reserved=layer.reserved_tokens,
            min_tokens=layer.min_tokens,
            compressible=layer.compressor is not None,
            placement=layer.placement,
            role=layer.role,
            why=layer.why,
            text=text,
            original=original,
        )

    @property
    def full_tokens(self) -> int:
        return self.whole if isinstance(self.whole, int) else self.whole()

    @property
    def kind(self) -> str:
        return self.id.split(":", 1)[0]

    def as_dict(self) -> dict[str, Any]:
        """The JSON report entry (contents left out; see ``text``/``original``)."""
        return {
            "id": self.id,
            "tokens": self.tokens,
            "status": self.status,
            "reason": self.reason,
            "full_tokens": self.full_tokens,
            "priority": self.priority,
            "placement": self.placement,
        }


@dataclass(frozen=True, slots=True)
class Pack:
    """Layers in their given order, each with its report; ``used`` ≤ ``budget`` always."""

    budget: int
    counter: str
    layers: tuple[LayerReport, ...]

    @property
    def used(self) -> int:
        return sum(r.tokens for r in self.layers)

    @property
    def utilization(self) -> float:
        return self.used / self.budget if self.budget else 0.0

    def layer(self, layer_id: str) -> LayerReport:
        for report in self.layers:
            if report.id == layer_id:
                return report
        raise KeyError(layer_id)

    def _texts(self, placement: Placement) -> list[LayerReport]:
        return [r for r in self.layers if r.placement == placement and r.status != "excluded"]

    def system_text(self) -> str:
        return SEPARATOR.join(r.text for r in self._texts("system"))

    def conversation(self) -> list[dict[str, str]]:
        """The non-system messages, one role per message, in window order."""
        parts: list[tuple[Role, str]] = []
        context = SEPARATOR.join(r.text for r in self._texts("context"))
        if context:
            parts.append(("user", context))
        parts += [(r.role, r.text) for r in self._texts("history")]
        task = SEPARATOR.join(r.text for r in self._texts("task"))
        if task:
            parts.append(("user", task))
        merged: list[dict[str, str]] = []
        for role, text in parts:
            if merged and merged[-1]["role"] == role:
                merged[-1]["content"] += SEPARATOR + text
            else:
                merged.append({"role": role, "content": text})
        return merged

    def openai_messages(self) -> list[dict[str, str]]:
        system = self.system_text()
        head = [{"role": "system", "content": system}] if system else []
        return head + self.conversation()

    def anthropic_messages(self) -> tuple[str, list[dict[str, str]]]:
        """``(system, messages)`` for the Anthropic Messages API. It wants a user message
        first: a history that starts with the assistant gets a short, uncounted opener."""
        messages = self.conversation()
        if messages and messages[0]["role"] == "assistant":
            messages.insert(0, {"role": "user", "content": "(session continues)"})
        return self.system_text(), messages

    def report(self, *, model: str = "") -> dict[str, Any]:
        """The ``--json`` document: budget, used, model, layers, messages."""
        return {
            "budget": self.budget,
            "used": self.used,
            "model": model,
            "counter": self.counter,
            "utilization": round(self.utilization, 4),
            "layers": [r.as_dict() for r in self.layers],
            "messages": self.openai_messages(),
        }

"""``pack_window`` behind the MCP ``build_context`` tool: call ``contextos.build_context`` (the
one packer), map its pack into the tool's output model ``PackedContext``.

The packer owns every decision; this adapter passes the refresher's embedder (None: lexical),
the memories the engine recalled from the caller's view of the store, and ``index=False`` (the
background refresher keeps the index fresh, so a call never waits for an index run), then copies
the report and the OpenAI-style messages into ``PackedContext``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from contextos.embed.protocol import Embedder
from contextos.mcp_server.models import ChatMessage, ContextLayer, PackedContext

if TYPE_CHECKING:
    from contextos.context.sources import MemoryItem

__all__ = ["pack_window"]


def pack_window(
    root: Path,
    embedder: Embedder | None,
    task: str,
    budget: int,
    model: str = "gpt-4.1",
    *,
    memories: Sequence[MemoryItem] | None = None,
) -> PackedContext:
    """The packed window for ``task`` within ``budget`` tokens (counted for ``model``), with the
    caller's ``memories`` (None: recalled from the user's store)."""
    from contextos.context import build_context as pack_for_task

    result = pack_for_task(
        task,
        root,
        budget=budget,
        model=model,
        embedder=embedder,
        index=False,
        memories=memories,
    )
    pack = result.pack
    return PackedContext(
        task=task,
        model=result.model,
        budget=pack.budget,
        used=pack.used,
        utilization=round(pack.utilization, 4),
        layers=[
            ContextLayer(id=r.id, tokens=r.tokens, status=r.status, reason=r.reason)
            for r in pack.layers
        ],
        messages=[
            ChatMessage(role=m["role"], content=m["content"]) for m in pack.openai_messages()
        ],
        notes=list(result.notes),
    )

"""``build_context`` for the MCP tool: call ``contextos.context.build_context``, map its pack.

The packer owns every decision; this adapter passes the refresher's embedder (None: lexical) and
``index=False`` (the background refresher keeps the index fresh, so a call never waits for an
index run), then copies the report and the OpenAI-style messages into ``ContextResult``.
"""

from __future__ import annotations

from pathlib import Path

from contextos.embed.protocol import Embedder
from contextos.errors import ContextosError
from contextos.mcp_server.models import ChatMessage, ContextLayer, ContextResult

__all__ = ["build_context"]


def build_context(
    root: Path, embedder: Embedder | None, task: str, budget: int, model: str = "gpt-4.1"
) -> ContextResult:
    """The packed window for ``task`` within ``budget`` tokens (counted for ``model``)."""
    try:
        from contextos.context import build_context as pack_for_task
    except ImportError as exc:
        raise ContextosError(
            "build_context is not available yet in this contextos build (no context packer);"
            " use search_code, read_file and recall instead"
        ) from exc
    result = pack_for_task(task, root, budget=budget, model=model, embedder=embedder, index=False)
    pack = result.pack
    return ContextResult(
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

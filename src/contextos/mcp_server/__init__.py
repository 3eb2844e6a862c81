"""The contextos MCP server: tools and memory resources over stdio or streamable HTTP.

``Engine`` holds the library side (workspace, memory store, background refresh), ``build_server``
wraps it in the official ``mcp`` SDK's ``MCPServer`` (2.x API), ``serve`` runs it, and ``install``
writes client configs. Names load on first use, so ``mcp install`` never imports the SDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contextos.mcp_server.engine import Engine
    from contextos.mcp_server.install import InstallPlan, apply, plan_install
    from contextos.mcp_server.server import build_server, serve

__all__ = ["Engine", "InstallPlan", "apply", "build_server", "plan_install", "serve"]

_HOMES = {
    "Engine": "contextos.mcp_server.engine",
    "InstallPlan": "contextos.mcp_server.install",
    "apply": "contextos.mcp_server.install",
    "plan_install": "contextos.mcp_server.install",
    "build_server": "contextos.mcp_server.server",
    "serve": "contextos.mcp_server.server",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'contextos.mcp_server' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)

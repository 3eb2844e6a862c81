"""The contextos MCP server: tools and memory resources over stdio or streamable HTTP.

``Engine`` holds the library side (workspace, memory store, background refresh), ``build_server``
wraps it in the official ``mcp`` SDK's ``MCPServer`` (2.x API), ``serve`` runs it, and ``install``
writes client configs. Importing this package imports the SDK but starts nothing.
"""

from contextos.mcp_server.engine import Engine
from contextos.mcp_server.install import InstallPlan, apply, plan_install
from contextos.mcp_server.server import build_server, serve

__all__ = ["Engine", "InstallPlan", "apply", "build_server", "plan_install", "serve"]

"""The contextos MCP server: tools and memory resources over stdio or streamable HTTP.

``engine.Engine`` holds the library side (workspace, memory store, background refresh),
``server.build_server`` wraps it in the official ``mcp`` SDK's ``MCPServer`` (2.x API),
``server.serve`` runs it, and ``install`` writes client configs. This package re-exports
nothing, so importing ``contextos.mcp_server.install`` never loads the SDK.
"""

"""Start-up and shutdown of the installed ``contextos`` command and its MCP server, timed from
outside with real subprocesses. ``python -m benchmarks.startup`` runs ``harness.main``."""

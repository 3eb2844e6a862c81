"""A team's load on one shared MCP endpoint, on PostgreSQL and on SQLite (issue 13).
``python -m benchmarks.team_load`` runs ``harness.main``."""

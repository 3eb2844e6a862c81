"""The ``contextos`` command: the typer app, assembled from one module per command group.

``code`` (index, search, status), ``context``, ``memory`` (remember, recall, memory ...),
``mcp`` (serve, install), ``trust``, ``doctor``, ``token``, ``db`` (status, migrate) and
``migrate-store`` each parse, call the library and render;
``_output`` owns everything printed, ``--json``, progress bars and the one way errors end a
command (one line on stderr, exit 2 for user mistakes, 1 for failures). Every command that
prints data takes ``--json``; a traceback means a bug in contextos.

Leaves out any work at import: command modules import the library (numpy, tree-sitter, the MCP
SDK, pydantic models) inside the command functions, so ``contextos --help`` stays fast.
"""

from __future__ import annotations

import sys

import typer

from contextos.cli import agent, code, context, db, doctor, mcp, memory, rlm, token, trust
from contextos.cli._output import run

__all__ = ["app", "main"]

app = typer.Typer(
    rich_markup_mode=None,
    help="contextos: the context engine for AI coding agents (index, search, and more).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
code.register(app)
context.register(app)
memory.register(app)
mcp.register(app)
doctor.register(app)
trust.register(app)
agent.register(app)
rlm.register(app)
token.register(app)
db.register(app)


def main() -> None:
    """Console-script entry point (``contextos``, ``python -m contextos``)."""
    sys.exit(run(app))

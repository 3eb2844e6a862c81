"""``contextos mcp``: run the MCP server, or ``mcp install`` it into a client. Parse, call, render.

``contextos mcp [PATH]`` is short for ``contextos mcp serve [PATH]``: a first argument that is not
a subcommand name goes to ``serve`` (a workspace directory literally named ``install`` needs
``./install``). In stdio mode stdout belongs to the protocol, so nothing else is printed there.
Errors end through ``_output`` (one line on stderr, exit 2 for user mistakes).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from contextos.cli._output import emit, fail, handled, say
from contextos.errors import UserInputError

__all__ = ["mcp_app", "register"]


class Transport(StrEnum):
    stdio = "stdio"
    http = "http"


class _ServeByDefault(TyperGroup):
    """A group whose default subcommand is ``serve``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # ctx: typer's vendored click
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["serve", *args]
        return super().parse_args(ctx, args)


mcp_app = typer.Typer(
    rich_markup_mode=None,
    cls=_ServeByDefault,
    help=(
        "Run the contextos MCP server (`contextos mcp [PATH]`, stdio by default) or register it "
        "with a client (`contextos mcp install --client claude|cursor|codex`)."
    ),
    no_args_is_help=False,
)


def register(app: typer.Typer) -> None:
    """Add the ``mcp`` command group to ``app``."""
    app.add_typer(mcp_app, name="mcp")


@mcp_app.command()
@handled()
def serve(
    path: Annotated[
        Path, typer.Argument(help="Workspace root (default: current directory).")
    ] = Path("."),
    transport: Annotated[
        Transport,
        typer.Option(help="stdio (for a client that starts the server) or http (streamable HTTP)."),
    ] = Transport.stdio,
    host: Annotated[str, typer.Option(help="Address to bind with --transport http.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port for --transport http.")] = 8765,
    poll_seconds: Annotated[
        float, typer.Option(min=0.1, help="How often to check the tree for changed files.")
    ] = 2.0,
) -> None:
    """Serve PATH over MCP; the index refreshes in the background while it runs."""
    from contextos.mcp_server.server import serve as run_server

    if transport is Transport.http:
        from contextos.mcp_server.auth import TokenStore
        from contextos.mcp_server.http_app import HttpOptions, check_startable
        from contextos.settings import load_settings

        options = HttpOptions.from_settings(load_settings(path))
        check_startable(host, options, TokenStore())  # refusal: one line
        _announce(host, port)
    signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop is a clean stop
    stopped = run_server(
        path,
        transport="http" if transport is Transport.http else "stdio",
        host=host,
        port=port,
        poll_seconds=poll_seconds,
    )
    if not stopped:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)  # a native call still runs in the indexer thread; see serve()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _announce(host: str, port: int) -> None:
    """Say where the HTTP server listens and the line each client needs (stderr)."""
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/mcp"
    lines = [
        f"contextos MCP server (streamable HTTP) at {url}; stop with Ctrl-C",
        "connect a client:",
        f"  Claude Code:  claude mcp add --transport http contextos {url}",
        f'  Codex:        [mcp_servers.contextos] url = "{url}"   (~/.codex/config.toml)',
        "  Cursor:       " + json.dumps({"mcpServers": {"contextos": {"url": url}}}),
    ]
    say(*lines, stderr=True)


@mcp_app.command()
@handled()
def install(
    client: Annotated[str, typer.Option(help="claude, cursor or codex.")],
    project: Annotated[
        bool, typer.Option("--project", help="Write the project's config, not the user's.")
    ] = False,
    path: Annotated[Path, typer.Option("--path", "-p", help="Workspace root to serve.")] = Path(
        "."
    ),
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Write without asking.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Add the contextos server to a client's MCP config (shows the diff, then asks).

    Only contextos's keys are updated; the user's other keys in the entry are kept. Notes after
    writing say which values were held back and what the client needs before it starts the server.
    """
    from contextos.mcp_server.install import apply, plan_install

    plan = plan_install(client, path, project=project)
    report: dict[str, Any] = {
        "client": plan.client,
        "path": str(plan.path),
        "command": [plan.command, *plan.args],
        "changed": plan.changed,
        "diff": plan.diff,
        "written": False,
        "notes": list(plan.notes),
    }
    if not plan.changed:
        _report(report, as_json, f"{plan.path} already runs contextos; nothing to change")
        return
    if not as_json:
        typer.echo(plan.diff, nl=False)
    if not yes:
        if as_json or not sys.stdin.isatty():
            _report(report, as_json, None)
            raise UserInputError(f"not writing {plan.path} without confirmation: re-run with --yes")
        if not typer.confirm(f"Write {plan.path}?", default=False):
            fail("nothing written", 1)
    apply(plan)
    report["written"] = True
    _report(report, as_json, f"wrote {plan.path}")


def _report(report: dict[str, Any], as_json: bool, human: str | None) -> None:
    """The install report: JSON on stdout, or ``human`` and the notes on stderr (stdout holds
    only the diff)."""
    lines = [human, *(f"note: {n}" for n in report["notes"])] if human else []
    emit(report, as_json, lambda: say(*lines, stderr=True))

"""CLI commands for the context part (registered on the main app by ``register``).

``contextos context TASK`` builds the window for TASK (indexing the workspace incrementally
first) and prints it with the report; ``--json`` prints the report as JSON, ``--html FILE``
writes a self-contained page. Parse, call ``contextos.context.build_context``, render.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from contextos.errors import ContextosError, UserInputError

if TYPE_CHECKING:
    from contextos.context.report import Pack

__all__ = ["register"]

_err = Console(stderr=True)
_out = Console()
_STYLE = {"included": "green", "truncated": "yellow", "excluded": "dim"}


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("context")(context)


def context(
    task: Annotated[str, typer.Argument(help="What the agent should do; '-' reads stdin.")],
    budget: Annotated[int, typer.Option(min=1, help="Token budget of the window.")] = 8000,
    model: Annotated[
        str, typer.Option(help="Model the window is for; picks the token counter.")
    ] = "gpt-4.1",
    session: Annotated[
        str | None, typer.Option(help="Session id whose stored history is packed too.")
    ] = None,
    path: Annotated[Path, typer.Option("--path", "-p", help="Workspace root.")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write a self-contained HTML page to FILE.")
    ] = None,
    k: Annotated[
        int | None,
        typer.Option(
            "--k",
            "-k",
            min=1,
            help="Ranked code chunks to choose from [default: 300, more for budgets over 15k].",
        ),
    ] = None,
    keep_outputs: Annotated[
        int, typer.Option(min=0, help="Newest tool outputs kept verbatim; older ones masked.")
    ] = 3,
) -> None:
    """Pack the context window for TASK within a token budget and show what is in and out."""
    from contextos import cli
    from contextos.context.builder import build_context
    from contextos.context.html import render_html

    if task == "-":
        task = sys.stdin.read()
    try:
        if as_json and html is not None:
            raise UserInputError("choose one of --json and --html")
        with cli._progress(not as_json and _err.is_terminal) as progress:
            result = build_context(
                task,
                path,
                budget=budget,
                model=model,
                session=session,
                k=k,
                keep_outputs=keep_outputs,
                progress=progress,
            )
        if html is not None:
            page = render_html(result.pack, task=task, model=model, notes=result.notes)
            _write(html, page)
    except ContextosError as exc:
        _err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(exc.exit_code) from exc
    if as_json:
        _out.print_json(json.dumps(result.report()))
        return
    for note in result.notes:
        _err.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    if html is not None:
        used, total = result.pack.used, result.pack.budget
        _out.print(f"wrote {html} ({used:,} of {total:,} tokens)", highlight=False)
        return
    _print_window(result.pack, model)


def _print_window(pack: Pack, model: str) -> None:
    for message in pack.openai_messages():
        _out.print(Rule(message["role"], align="left"))
        _out.print(message["content"], markup=False, highlight=False)
    _out.print(_table(pack))
    _out.print(
        f"used {pack.used:,} of {pack.budget:,} tokens ({pack.utilization:.1%}) · "
        f"model {model} · counter {pack.counter}",
        highlight=False,
    )


def _write(target: Path, page: str) -> None:
    try:
        target.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise UserInputError(f"cannot write {target}: {exc.strerror or exc}") from exc


def _table(pack: Pack) -> Table:
    table = Table(show_header=True, header_style="bold", title="layers")
    table.add_column("layer")
    table.add_column("status")
    table.add_column("tokens", justify="right")
    table.add_column("reason")
    for r in pack.layers:
        tokens = f"{r.tokens:,}/{r.full_tokens:,}" if r.full_tokens else "-"
        table.add_row(Text(r.id), Text(r.status, style=_STYLE[r.status]), tokens, Text(r.reason))
    return table

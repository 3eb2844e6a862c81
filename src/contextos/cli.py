"""The ``contextos`` command: parse, call the library, render. Nothing else lives here.

Every command that prints data takes ``--json``. Errors from the library (``ContextosError``)
are printed as one line on stderr with the exit code they carry (2 for user mistakes); a
traceback means a bug in contextos.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from contextos.cli_memory import register
from contextos.errors import ContextosError

if TYPE_CHECKING:
    from contextos.types import FileHit, SearchHit

__all__ = ["app", "main"]

app = typer.Typer(
    rich_markup_mode=None,
    help="contextos: the context engine for AI coding agents (index, search, and more).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
register(app)
_err = Console(stderr=True)
_out = Console()

PathArg = Annotated[Path, typer.Argument(help="Workspace root (default: current directory).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _workspace(path: Path) -> Any:
    from contextos.workspace import Workspace

    return Workspace(path)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar with a files/s rate, fed by the library's progress callback."""
    if not enabled:
        yield lambda *_: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=_err, transient=True) as bar:
        tasks: dict[str, TaskID] = {}
        units = {"index": "files/s", "embed": "chunks/s", "distill": "tokens/s"}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total, rate="")
            task = tasks[stage]
            bar.update(task, completed=done, total=total)
            speed = bar.tasks[task].speed
            if speed:
                bar.update(task, rate=f"{speed:,.0f} {units.get(stage, '/s')}")

        yield update


def _fail(exc: ContextosError) -> None:
    _err.print(f"[red]error:[/red] {exc}", highlight=False)
    raise typer.Exit(exc.exit_code)


@app.command()
def index(
    path: PathArg = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Index (or incrementally re-index) the files under PATH."""
    try:
        with _workspace(path) as ws, _progress(not as_json and _err.is_terminal) as progress:
            summary = ws.index(progress=progress)
    except ContextosError as exc:
        _fail(exc)
        return
    except KeyboardInterrupt:
        _err.print(
            "interrupted: what was indexed is consistent and searchable; re-run to finish "
            "(a model build goes on in the background)",
            highlight=False,
        )
        raise typer.Exit(130) from None
    data = asdict(summary)
    if as_json:
        _out.print_json(json.dumps(data))
        return
    for warning in summary.warnings:
        _err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    rate = summary.files_seen / summary.seconds if summary.seconds else 0.0
    _out.print(
        f"indexed {summary.root}: {summary.files_seen} files "
        f"(+{summary.files_added} ~{summary.files_changed} -{summary.files_deleted}, "
        f"{summary.files_unchanged} unchanged), {summary.chunks_total} chunks, "
        f"{summary.seconds:.1f}s ({rate:,.0f} files/s), embedder {summary.embedder}",
        highlight=False,
    )
    if summary.skipped:
        reasons = ", ".join(f"{n} {reason}" for reason, n in summary.skipped.items())
        _out.print(f"skipped: {reasons}", highlight=False)


@app.command()
def search(
    query: Annotated[
        str, typer.Argument(help="What to look for: words, identifiers, an issue text.")
    ],
    k: Annotated[int, typer.Option("--k", "-k", min=1, help="Number of results.")] = 10,
    files: Annotated[bool, typer.Option("--files", help="Rank files instead of chunks.")] = False,
    mode: Annotated[str, typer.Option(help="hybrid, lexical or dense.")] = "hybrid",
    path: Annotated[Path, typer.Option("--path", "-p", help="Workspace root.")] = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Search the index of a workspace (run `contextos index` first)."""
    if query == "-":
        query = sys.stdin.read()
    try:
        with _workspace(path) as ws:
            hits = ws.search(query, k, files=files, mode=mode)
            warnings = list(ws.warnings)
    except ContextosError as exc:
        _fail(exc)
        return
    for warning in warnings:
        _err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    if as_json:
        _out.print_json(json.dumps([asdict(h) for h in hits]))
        return
    _render_hits(hits)


def _render_hits(hits: list[SearchHit] | list[FileHit]) -> None:
    from contextos.types import FileHit, SearchHit

    if not hits:
        _out.print("no results (is the workspace indexed? run `contextos index`)")
        return
    table = Table(show_header=True, header_style="bold")
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("location")
    table.add_column("symbol")
    for i, hit in enumerate(hits, start=1):
        if isinstance(hit, FileHit):
            symbols = ", ".join(c.symbol or f"{c.start_line}-{c.end_line}" for c in hit.chunks)
            table.add_row(str(i), f"{hit.score:.4f}", hit.path, symbols)
        elif isinstance(hit, SearchHit):
            loc = f"{hit.path}:{hit.start_line}-{hit.end_line}"
            table.add_row(str(i), f"{hit.score:.4f}", loc, hit.symbol or hit.kind)
    _out.print(table)


@app.command()
def status(path: PathArg = Path("."), as_json: JsonOpt = False) -> None:
    """Show what is indexed for PATH."""
    try:
        with _workspace(path) as ws:
            info = ws.status()
    except ContextosError as exc:
        _fail(exc)
        return
    if as_json:
        _out.print_json(json.dumps(info))
        return
    for key, value in info.items():
        _out.print(f"{key}: {value}", highlight=False)


def _register_parts() -> None:
    from contextos.cli_context import register as register_context
    from contextos.cli_mcp import register as register_mcp

    register_context(app)
    register_mcp(app)


_register_parts()


def main() -> None:
    """Console-script entry point."""
    app()

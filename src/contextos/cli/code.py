"""The code commands: ``index``, ``search`` and ``status`` of a workspace. Parse, call, render.

``register(app)`` adds them to the main ``contextos`` app. Errors end through ``_output``
(one line, exit 2 for user mistakes); what is printed on success is rendered here.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from contextos.cli._output import emit, handled, out, progress, say, warn
from contextos.errors import UserInputError

if TYPE_CHECKING:
    from contextos.code.push import PushSummary
    from contextos.types import FileHit, IndexSummary, SearchHit, SearchMode
    from contextos.workspace import Workspace

__all__ = ["register"]

PathArg = Annotated[Path, typer.Argument(help="Workspace root (default: current directory).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
INTERRUPTED = (
    "interrupted: what was indexed is consistent and searchable; re-run to finish "
    "(a model build goes on in the background)"
)


def register(app: typer.Typer) -> None:
    """Add ``index``, ``search`` and ``status`` to ``app``."""
    app.command()(index)
    app.command()(search)
    app.command()(status)


def _workspace(path: Path) -> Workspace:
    from contextos.workspace import Workspace

    return Workspace(path)


@handled(interrupted=INTERRUPTED)
def index(
    path: PathArg = Path("."),
    push: Annotated[
        bool,
        typer.Option(
            "--push",
            help="Then store every chunk vector in the team database (CONTEXTOS_DATABASE_URL),"
            " where other machines indexing the same code reuse them.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Index (or incrementally re-index) the files under PATH."""
    with _workspace(path) as ws:
        url = ws.settings.database_url
        if push and not url:
            raise UserInputError(
                "--push needs the team database: set CONTEXTOS_DATABASE_URL (or database_url in "
                "config.toml) to a PostgreSQL URL"
            )
        with progress(not as_json) as update:
            summary = ws.index(progress=update)
        pushed = _push(ws, url) if push and url else None
    result = asdict(summary) | ({"push": asdict(pushed)} if pushed else {})
    emit(result, as_json, lambda: _render_summary(summary, pushed))


def _push(ws: Workspace, url: str) -> PushSummary:
    from contextos.code.push import push_vectors
    from contextos.embed.shared import SharedVectors

    shared = SharedVectors.open(url)
    try:
        return push_vectors(ws.conn, shared)
    finally:
        shared.close()


def _render_summary(summary: IndexSummary, pushed: PushSummary | None = None) -> None:
    for warning in summary.warnings:
        warn(warning)
    rate = summary.files_seen / summary.seconds if summary.seconds else 0.0
    say(
        f"indexed {summary.root}: {summary.files_seen} files "
        f"(+{summary.files_added} ~{summary.files_changed} -{summary.files_deleted}, "
        f"{summary.files_unchanged} unchanged), {summary.chunks_total} chunks, "
        f"{summary.seconds:.1f}s ({rate:,.0f} files/s), embedder {summary.embedder}"
    )
    if summary.skipped:
        reasons = ", ".join(f"{n} {reason}" for reason, n in summary.skipped.items())
        say(f"skipped: {reasons}")
    if pushed is not None:
        say(
            f"pushed {pushed.pushed} new chunk vectors to the team database "
            f"({pushed.already_shared} were there already; {pushed.model}, "
            f"{pushed.seconds:.1f}s)"
        )


@handled()
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
    with _workspace(path) as ws:
        checked = cast("SearchMode", mode)  # Workspace.search refuses an unknown mode
        hits: list[SearchHit] | list[FileHit] = (
            ws.search(query, k, files=True, mode=checked)
            if files
            else ws.search(query, k, mode=checked)
        )
        warnings = list(ws.warnings)
    for warning in warnings:
        warn(warning)
    emit([asdict(h) for h in hits], as_json, lambda: _render_hits(hits))


def _render_hits(hits: list[SearchHit] | list[FileHit]) -> None:
    from rich.table import Table

    from contextos.types import FileHit, SearchHit

    if not hits:
        out.print("no results (is the workspace indexed? run `contextos index`)")
        return
    rows: list[tuple[str, str, float]] = []
    for hit in hits:
        if isinstance(hit, FileHit):
            symbols = ", ".join(c.symbol or f"{c.start_line}-{c.end_line}" for c in hit.chunks)
            rows.append((hit.path, symbols, hit.score))
        elif isinstance(hit, SearchHit):
            loc = f"{hit.path}:{hit.start_line}-{hit.end_line}"
            rows.append((loc, hit.symbol or hit.kind, hit.score))
    table = Table(show_header=True, header_style="bold")
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    # a location is never cut or broken: the symbol column gives way instead
    table.add_column("location", no_wrap=True, min_width=max(len(row[0]) for row in rows))
    table.add_column("symbol")
    for i, (loc, symbol, score) in enumerate(rows, start=1):
        table.add_row(str(i), f"{score:.4f}", loc, symbol)
    out.print(table)


@handled()
def status(path: PathArg = Path("."), as_json: JsonOpt = False) -> None:
    """Show what is indexed for PATH."""
    with _workspace(path) as ws:
        info = ws.status()
    emit(info, as_json, lambda: say(*(f"{key}: {value}" for key, value in info.items())))

"""The ``context`` command (registered on the main app by ``register``).

``contextos context TASK`` builds the window for TASK (indexing the workspace incrementally
first) and prints it with the report; ``--json`` prints the report as JSON, ``--html FILE``
writes a self-contained page. Without TASK, ``--session RUN_ID [--step N]`` shows the window an
agent run's step sent (``contextos.agent.step_view``, the last step by default), in the same
three forms. Parse, call ``contextos.context.build_context`` or read the run, render; errors
end through ``_output``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from contextos.cli._output import emit, handled, note, out, progress, say
from contextos.errors import UserInputError

if TYPE_CHECKING:
    from rich.table import Table

    from contextos.context.report import Pack

__all__ = ["register"]

_STYLE = {"included": "green", "truncated": "yellow", "excluded": "dim"}


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("context")(context)


@handled()
def context(
    task: Annotated[
        str | None,
        typer.Argument(
            help="What the agent should do; '-' reads stdin. Omit it to show an agent run's "
            "step window (--session RUN_ID)."
        ),
    ] = None,
    budget: Annotated[int, typer.Option(min=1, help="Token budget of the window.")] = 8000,
    model: Annotated[
        str, typer.Option(help="Model the window is for; picks the token counter.")
    ] = "gpt-4.1",
    session: Annotated[
        str | None,
        typer.Option(
            help="Session id whose stored history is packed too; without TASK, an agent "
            "RUN_ID whose step window to show."
        ),
    ] = None,
    step: Annotated[
        int | None,
        typer.Option(
            min=1, help="With --session RUN_ID and no TASK: the step to show [default: last]."
        ),
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
    """Pack the context window for TASK within a token budget and show what is in and out;
    without TASK, show the window an agent run's step sent (--session RUN_ID [--step N])."""
    from contextos.context.builder import build_context
    from contextos.context.html import render_html

    if as_json and html is not None:
        raise UserInputError("choose one of --json and --html")
    if task is None:
        if session is None:
            raise UserInputError(
                "missing TASK: say what to pack, or show an agent step with --session RUN_ID"
            )
        _show_step(session, step, html, as_json)
        return
    if step is not None:
        raise UserInputError("--step shows a recorded agent step: give --session RUN_ID, no TASK")
    if task == "-":
        task = sys.stdin.read()
    with progress(not as_json) as update:
        result = build_context(
            task,
            path,
            budget=budget,
            model=model,
            session=session,
            k=k,
            keep_outputs=keep_outputs,
            progress=update,
        )
    if html is not None:
        page = render_html(result.pack, task=task, model=model, notes=result.notes)
        _write(html, page)
    if not as_json:
        for line in result.notes:
            note(line)
    if html is not None:
        used, total = result.pack.used, result.pack.budget
        say(f"wrote {html} ({used:,} of {total:,} tokens)")
        return
    emit(result.report(), as_json, lambda: _print_window(result.pack, model))


def _show_step(run_id: str, step: int | None, html: Path | None, as_json: bool) -> None:
    from contextos.agent.runs import step_row
    from contextos.agent.step_view import step_view
    from contextos.context.html import render_html

    row = step_row(run_id, step)
    view = step_view(row)
    n = row["step"]
    if html is not None:
        page = render_html(
            view.pack,
            task=f"run {run_id}, step {n}",
            notes=view.notes,
            messages=view.messages,
            title=f"Agent step {n}",
        )
        _write(html, page)
        say(f"wrote {html} (run {run_id} step {n}: {view.pack.used:,} tokens)")
        return
    report = {
        "run_id": run_id,
        "step": n,
        "budget": view.pack.budget,
        "used": view.pack.used,
        "layers": [{"id": r.id, "tokens": r.tokens, "status": r.status} for r in view.pack.layers],
        "notes": view.notes,
        "messages": view.messages,
    }
    emit(report, as_json, lambda: _print_step(report))


def _print_step(report: dict[str, Any]) -> None:
    from rich.rule import Rule

    for layer, message in zip(report["layers"], report["messages"], strict=True):
        out.print(Rule(f"{layer['id']} · {layer['tokens']:,} tokens", align="left"))
        out.print(str(message.get("content") or ""), markup=False, highlight=False)
        for call in message.get("tool_calls") or []:
            fn = call.get("function", {})
            out.print(f"-> {fn.get('name')}({fn.get('arguments')})", markup=False)
    for line in report["notes"]:
        out.print(line, markup=False, highlight=False)
    out.print(
        f"run {report['run_id']} step {report['step']}: {report['used']:,} of "
        f"{report['budget']:,} tokens",
        highlight=False,
    )


def _print_window(pack: Pack, model: str) -> None:
    from rich.rule import Rule

    for message in pack.openai_messages():
        out.print(Rule(message["role"], align="left"))
        out.print(message["content"], markup=False, highlight=False)
    out.print(_table(pack))
    out.print(
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
    from rich.table import Table
    from rich.text import Text

    table = Table(show_header=True, header_style="bold", title="layers")
    table.add_column("layer")
    table.add_column("status")
    table.add_column("tokens", justify="right")
    table.add_column("reason")
    for r in pack.layers:
        tokens = f"{r.tokens:,}/{r.full_tokens:,}" if r.full_tokens else "-"
        table.add_row(Text(r.id), Text(r.status, style=_STYLE[r.status]), tokens, Text(r.reason))
    return table

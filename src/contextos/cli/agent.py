"""The ``agent`` command (registered on the main app by ``register``).

``contextos agent "TASK"`` runs the coding agent (``contextos.agent.loop``) on the workspace with
the configured model; ``contextos agent runs`` lists the runs, ``contextos agent accept RUN_ID``
and ``contextos agent reject RUN_ID`` record the human's verdict beside the trajectory. One
command with a word list rather than sub-commands, so a task needs no ``run`` verb; a task that
is literally one of those words needs more words. Parse, call the library, render.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from contextos.cli._output import emit, fail, handled, say
from contextos.errors import UserInputError

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add this module's command to ``app``."""
    app.command("agent")(agent)


@handled()
def agent(
    words: Annotated[
        list[str],
        typer.Argument(
            metavar="TASK", help="The task; or `runs`; or `accept RUN_ID` / `reject RUN_ID`."
        ),
    ],
    path: Annotated[Path, typer.Option("--path", "-p", help="Workspace root.")] = Path("."),
    model: Annotated[
        str | None, typer.Option(help="Model as provider:name (default: settings' model).")
    ] = None,
    budget: Annotated[int, typer.Option(min=1000, help="Token budget of every window.")] = 16000,
    max_steps: Annotated[int, typer.Option(min=1, help="Stop after this many steps.")] = 50,
    max_tokens: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many model tokens in all.")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(min=1, help="Stop after this many seconds.")
    ] = None,
    test: Annotated[
        str | None, typer.Option(help="Shell command that must pass before finish is accepted.")
    ] = None,
    note: Annotated[str, typer.Option(help="Note stored with accept/reject.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Run the coding agent on TASK; `agent runs` lists runs; `agent accept|reject RUN_ID`."""
    from contextos.agent import runs

    if words == ["runs"]:
        rows = runs.list_runs()
        emit(rows, as_json, lambda: _print_runs(rows))
        return
    if len(words) == 2 and words[0] in ("accept", "reject"):
        verdict: Literal["accept", "reject"] = "accept" if words[0] == "accept" else "reject"
        saved = runs.record_verdict(words[1], verdict, note)
        emit(
            {"run_id": words[1], "verdict": verdict, "file": str(saved)},
            as_json,
            lambda: say(f"{verdict}ed run {words[1]} ({saved})"),
        )
        return
    task = " ".join(words).strip()
    if not task:
        raise UserInputError("empty task: say what the agent should do")
    result = _run(task, path, model, budget, max_steps, max_tokens, timeout, test)
    emit(result, as_json, lambda: _print_result(result))
    if result["status"] == "error":
        fail(str(result["reason"]), 1)


def _run(
    task: str,
    path: Path,
    model: str | None,
    budget: int,
    max_steps: int,
    max_tokens: int | None,
    timeout: float | None,
    test: str | None,
) -> dict[str, Any]:
    from contextos.agent.loop import Agent, Limits
    from contextos.errors import ConfigError
    from contextos.llm.protocol import ToolLLM
    from contextos.llm.resolve import resolve_llm
    from contextos.workspace import Workspace

    with Workspace(path) as ws:
        settings = ws.settings if model is None else ws.settings.model_copy(update={"model": model})
        llm = resolve_llm(settings)
        if not isinstance(llm, ToolLLM):
            raise ConfigError(f"model {settings.model!r} cannot call tools")
        ws.index(model="background")
        limits = Limits(max_steps=max_steps, max_tokens=max_tokens, timeout_s=timeout)
        result = Agent(ws, llm, budget=budget, limits=limits, test=test).run(task)
    return result.to_dict()


def _print_runs(rows: list[dict[str, Any]]) -> None:
    if not rows:
        say("no agent runs yet")
    for r in rows:
        verdict = f" [{r['verdict']}]" if r.get("verdict") else ""
        say(
            f"{r['run_id']}  {r.get('status', '?'):10s} {r.get('steps', '-')!s:>3} steps"
            f"  {r.get('task', '')[:60]}{verdict}"
        )


def _print_result(result: dict[str, Any]) -> None:
    say(
        f"run {result['run_id']}: {result['status']} after {result['steps']} steps"
        f" ({result['tokens']} tokens): {result['reason']}"
    )
    if result.get("summary"):
        say(f"summary: {result['summary']}")
    if result.get("files"):
        say("changed: " + ", ".join(result["files"]))
    say("trajectory: contextos agent runs; accept or reject: contextos agent accept|reject RUN_ID")

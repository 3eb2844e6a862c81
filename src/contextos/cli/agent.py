"""The ``agent`` command (registered on the main app by ``register``).

``contextos agent "TASK"`` runs the coding agent (``contextos.agent.loop``) on the workspace with
the configured model; ``contextos agent runs`` lists the runs, ``contextos agent accept RUN_ID``
and ``contextos agent reject RUN_ID`` record the human's verdict beside the trajectory;
``--best-of N`` runs N candidates in git worktrees and keeps the best (``agent.best_of``),
``--until-done`` runs rounds until the todo list is closed and the tests pass (``agent.rounds``).
One
command with a word list rather than sub-commands, so a task needs no ``run`` verb; a task that
is literally one of those words needs more words. Parse, call the library, render.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from contextos.cli._output import emit, fail, handled, say
from contextos.errors import UserInputError

if TYPE_CHECKING:
    from contextos.llm.protocol import ToolLLM
    from contextos.settings import Settings

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add this module's command to ``app``."""
    app.command("agent")(agent)


@handled()
def agent(
    words: Annotated[
        list[str],
        typer.Argument(
            metavar="TASK",
            help="The task; or `runs`; `show RUN_ID`; `accept RUN_ID` / `reject RUN_ID`.",
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
    best_of: Annotated[
        int,
        typer.Option(
            "--best-of",
            min=1,
            help="Run N candidates concurrently in git worktrees; apply the best one's diff.",
        ),
    ] = 1,
    until_done: Annotated[
        bool,
        typer.Option(
            "--until-done",
            help="Run rounds (fresh windows, one todo list) until no todo item is open and "
            "--test passes.",
        ),
    ] = False,
    max_rounds: Annotated[
        int, typer.Option(min=1, help="With --until-done: stop after this many rounds.")
    ] = 5,
    note: Annotated[str, typer.Option(help="Note stored with accept/reject.")] = "",
    step: Annotated[
        int | None, typer.Option(min=1, help="With `show RUN_ID`: the step whose window to show.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Run the coding agent on TASK; `agent runs` lists runs; `agent show RUN_ID --step N`
    prints the window a step sent; `agent accept|reject RUN_ID` records your verdict."""
    from contextos.agent import runs

    if words == ["runs"]:
        rows = runs.list_runs()
        emit(rows, as_json, lambda: _print_runs(rows))
        return
    if len(words) == 2 and words[0] == "show":
        sent = runs.step_window(words[1], step or 1)
        emit(sent, as_json, lambda: _print_window(sent))
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
    if best_of > 1 and until_done:
        raise UserInputError("--best-of and --until-done do not combine: pick one")
    from contextos.agent.loop import Limits

    limits = Limits(max_steps=max_steps, max_tokens=max_tokens, timeout_s=timeout)
    kwargs: dict[str, Any] = {"budget": budget, "limits": limits, "test": test}
    if best_of > 1:
        report = _best_of(task, path, model, best_of, kwargs)
        emit(report, as_json, lambda: _print_best_of(report))
        if all(c["status"] == "error" for c in report["candidates"]):
            fail(str(report["candidates"][0]["reason"]), 1)
        return
    result = _run(task, path, model, kwargs, max_rounds if until_done else None)
    emit(result, as_json, lambda: _print_rounds(result) if until_done else _print_result(result))
    last = result["rounds"][-1] if until_done else result
    if last["status"] == "error":
        fail(str(last["reason"]), 1)


def _tool_llm(settings: Settings) -> ToolLLM:
    from contextos.llm.resolve import resolve_tool_llm

    return resolve_tool_llm(settings)


def _run(
    task: str, path: Path, model: str | None, kwargs: dict[str, Any], rounds: int | None
) -> dict[str, Any]:
    from contextos.agent.loop import Agent
    from contextos.agent.rounds import until_done
    from contextos.workspace import Workspace

    with Workspace(path) as ws:
        settings = ws.settings if model is None else ws.settings.model_copy(update={"model": model})
        llm = _tool_llm(settings)
        ws.index(model="background")
        if rounds is not None:
            out = until_done(ws, llm, task, max_rounds=rounds, **kwargs).to_dict()
        else:
            out = Agent(ws, llm, **kwargs).run(task).to_dict()
    out["memories"] = _extract_memories(llm, task)
    return out


def _extract_memories(llm: object, task: str) -> list[dict[str, Any]]:
    """Run the memory pipeline over the user's messages of the run (its task): an extraction
    failure is reported, never fatal to the run."""
    from contextos.errors import ContextosError
    from contextos.llm.protocol import LLM
    from contextos.memory import MemoryStore
    from contextos.memory.jobs import ExtractionQueue

    if not isinstance(llm, LLM):
        return []
    try:
        with MemoryStore.open() as store:
            outcomes = ExtractionQueue(store, llm).extract([{"role": "user", "content": task}])
    except ContextosError as exc:
        return [{"status": "failed", "error": str(exc)}]
    return [o.to_dict() for o in outcomes]


def _best_of(
    task: str, path: Path, model: str | None, n: int, kwargs: dict[str, Any]
) -> dict[str, Any]:
    from contextos.agent.best_of import best_of
    from contextos.workspace import Workspace

    with Workspace(path) as ws:
        settings = ws.settings if model is None else ws.settings.model_copy(update={"model": model})
        _tool_llm(settings)  # a model that cannot call tools fails here, before any worktree
    make_llm = functools.partial(_tool_llm, settings)
    return best_of(path, make_llm, task, n, settings=settings, **kwargs).to_dict()


def _print_window(messages: list[dict[str, Any]]) -> None:
    for m in messages:
        say(f"--- {m.get('role')}" + (f" ({m['tool_call_id']})" if m.get("tool_call_id") else ""))
        if m.get("content"):
            say(str(m["content"]))
        for call in m.get("tool_calls") or []:
            fn = call.get("function", {})
            say(f"-> {fn.get('name')}({fn.get('arguments')})")


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


def _print_rounds(report: dict[str, Any]) -> None:
    for r in report["rounds"]:
        left = sum(1 for it in r["todo"] if not it.get("done"))
        say(
            f"round {r['round']}: run {r['run_id']} {r['status']} after {r['steps']} steps"
            f" ({r['tokens']} tokens), {left} todo item(s) open: {r['reason']}"
        )
    say(("done: " if report["done"] else "not done: ") + report["reason"])


def _print_best_of(report: dict[str, Any]) -> None:
    for c in report["candidates"]:
        mark = "*" if c["index"] == report["winner"] else " "
        tests = {True: "pass", False: "fail", None: "-"}[c["test_passed"]]
        failed = f" ({c['failed']} failing)" if c["failed"] else ""
        d = c["diff"]
        say(
            f"{mark} {c['index']} run {c['run_id']}: {c['status']}, {c['tokens']} tokens,"
            f" tests {tests}{failed}, {d['files']} file(s) +{d['added']} -{d['removed']},"
            f" score {c['score']}"
        )
    if report["winner"] is None:
        say("no candidate")
    elif report["applied"]:
        say(f"applied candidate {report['winner']}'s diff to the workspace")
    else:
        say(f"candidate {report['winner']} won with no changes: nothing applied")

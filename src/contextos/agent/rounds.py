"""``--until-done``: run the agent in rounds, each a fresh window, until the work is done.

A long task outgrows one window however well it is packed; like the "Ralph" loop, ``until_done``
starts a new ``Agent`` run over the same files when one ends, until the todo list has no open
item and the ``test`` command passes (without a test: the round finished), or ``max_rounds`` is
reached, or a round ends in an error. The rounds share one todo list (the first round's
``todo.json``, given to every round's toolbox). Each round after the first starts from a
handoff note prepended to the task: the earlier round's verdict and summary, the files,
commands and errors of its session (``context.handoff``'s model-free summary), the open todo
items and the diff so far. Left out: a model-written note, and best-of-N candidates inside a
round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contextos.agent.best_of import diff_stat
from contextos.agent.loop import Agent, RunResult
from contextos.agent.runs import new_run_id, run_files
from contextos.agent.tools import Toolbox, render_todo
from contextos.context.handoff import factual_summary, handoff_prompt
from contextos.context.session import SessionStore
from contextos.llm.protocol import ToolLLM
from contextos.workspace import Workspace

__all__ = ["Round", "RoundsResult", "handoff_note", "until_done"]


@dataclass(slots=True)
class Round:
    """One round: its run, the todo list it left and whether the work was done then."""

    number: int
    result: RunResult
    todo: list[dict[str, Any]]
    done: bool

    def to_dict(self) -> dict[str, Any]:
        run = {k: v for k, v in self.result.to_dict().items() if k != "diff"}
        return {"round": self.number, **run, "todo": self.todo, "done": self.done}


@dataclass(slots=True)
class RoundsResult:
    """The rounds in order; ``done`` when the last one left no open item and passing tests."""

    task: str
    rounds: list[Round]
    done: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "done": self.done,
            "reason": self.reason,
            "rounds": [r.to_dict() for r in self.rounds],
            "diff": self.rounds[-1].result.diff if self.rounds else "",
        }


def until_done(
    workspace: Workspace,
    llm: ToolLLM,
    task: str,
    *,
    max_rounds: int = 5,
    test: str | None = None,
    **agent_kwargs: Any,
) -> RoundsResult:
    """Run ``Agent(workspace, llm, test=test, **agent_kwargs)`` rounds on ``task`` (see the
    module docstring). The rounds' run ids are their own; the todo list lives in the first's."""
    first = new_run_id()
    todo_dir = run_files(first, create=True).dir
    agent = Agent(
        workspace,
        llm,
        test=test,
        toolbox=lambda files: Toolbox(workspace, run_dir=todo_dir),
        **agent_kwargs,
    )
    rounds: list[Round] = []
    reason = f"round limit {max_rounds} reached"
    for number in range(1, max_rounds + 1):
        prompt = task if not rounds else handoff_note(task, rounds[-1]) + "\n\nThe task:\n" + task
        result = agent.run(prompt, run_id=first if number == 1 else None)
        todo = Toolbox(workspace, run_dir=todo_dir).todo_items()
        open_items = [it for it in todo if not it.get("done")]
        passed = result.test_passed if test else result.status == "finished"
        done = not open_items and passed is True
        rounds.append(Round(number, result, todo, done))
        if done:
            reason = f"done after {number} round{'s' if number > 1 else ''}"
            break
        if result.status == "error":
            reason = f"round {number} ended in an error: {result.reason}"
            break
    return RoundsResult(task, rounds, bool(rounds) and rounds[-1].done, reason)


def handoff_note(task: str, last: Round) -> str:
    """What a fresh round needs from the one before: done, left, and where things stand."""
    with SessionStore.open() as sessions:
        events = sessions.events(last.result.run_id)
    r = last.result
    verdict = f"round {last.number} ended {r.status}: {r.reason}"
    if r.test_passed is not None:
        verdict += "; the tests " + ("pass" if r.test_passed else "fail")
    summary = factual_summary(events).model_copy(
        update={
            "intent": task,
            "decisions": [verdict] + ([f"its summary: {r.summary}"] if r.summary else []),
            "pending_tasks": [str(it.get("text", "")) for it in last.todo if not it.get("done")],
            "user_messages": [],
            "numbers": [],
        }
    )
    todo = render_todo(last.todo)
    stat = diff_stat(r.diff)
    changed = f"{stat.files} file(s), +{stat.added} -{stat.removed} lines"
    parts = [
        handoff_prompt(summary),
        "Todo list (shared with this round):\n" + (todo or "(empty)"),
        f"Changes so far (git diff): {changed}" + (": " + ", ".join(r.files) if r.files else ""),
    ]
    return "\n\n".join(parts)

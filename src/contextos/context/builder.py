"""``build_context``: gather every source for a task, turn each into layers, pack them.

This is the I/O side of the context engine: it indexes the workspace (incrementally), searches
it, recalls memories (when the memory engine and a store exist), finds the rules files, loads
the session, then calls the pure ``assemble`` and ``pack``. It never prints; what it could not
use is said in ``ContextResult.notes``. No model and no network are needed.

``assemble`` packs every layer but code first; code fills the room they leave, and at least
``CODE_SHARE`` of the budget, with the best whole search hits (``code_fill.select_code``). Code is
that elastic filler, so the window-utilisation reminder counts every layer but code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from contextos.code.indexer import Progress
from contextos.code.query import parse_query
from contextos.context.code_fill import code_depth, select_code
from contextos.context.compaction import CompactionSummary
from contextos.context.counting import TokenCounter, counter_for
from contextos.context.handoff import load_summary
from contextos.context.history import history_layers, session_state
from contextos.context.layers import Layer, State
from contextos.context.packer import pack
from contextos.context.reminders import reminder_layers
from contextos.context.report import SEPARATOR, Pack
from contextos.context.rules import RuleFile, find_rules, rule_layers
from contextos.context.session import Event, SessionStore
from contextos.context.sources import (
    MemoryItem,
    memory_layer,
    system_layer,
    task_layer,
)
from contextos.context.tools import DEFAULT_TOOLS, ToolSpec, tool_layers
from contextos.embed.protocol import Embedder
from contextos.errors import UserInputError
from contextos.home import memory_db_path
from contextos.settings import Settings
from contextos.types import SearchHit
from contextos.workspace import Workspace

if TYPE_CHECKING:
    from contextos.memory import MemoryStore

__all__ = ["ContextResult", "SessionView", "assemble", "build_context", "recall_memories"]

CODE_SHARE = 0.25
"""Code gets what the other layers leave, but at least this share of the budget: its layers,
pinned whole, then commit their size in ``pack``, and compressible layers above them (history,
tool output) shrink to make that room."""
_WORK_FILES = 8
"""Files found by search that count as the task's work paths (best first)."""


@dataclass(frozen=True, slots=True)
class SessionView:
    """What packing needs of a session: its events, and the latest summary with its reach."""

    id: str
    events: tuple[Event, ...] = ()
    summary: CompactionSummary | None = None
    upto_seq: int = 0


@dataclass(frozen=True, slots=True)
class ContextResult:
    task: str
    model: str
    root: str
    pack: Pack
    state: State
    session: str | None = None
    notes: tuple[str, ...] = ()

    def report(self) -> dict[str, Any]:
        """The ``--json`` document (see ``Pack.report``) plus task, session and notes."""
        return {
            **self.pack.report(model=self.model),
            "task": self.task,
            "session": self.session,
            "notes": list(self.notes),
        }


def build_context(
    task: str,
    root: Path,
    *,
    budget: int = 8000,
    model: str = "gpt-4.1",
    session: str | None = None,
    counter: TokenCounter | None = None,
    settings: Settings | None = None,
    embedder: Embedder | Literal["auto"] | None = "auto",
    k: int | None = None,
    keep_outputs: int = 3,
    index: bool = True,
    progress: Progress | None = None,
    memories: Sequence[MemoryItem] | None = None,
) -> ContextResult:
    """Index, search, recall, load the session, and pack the window for ``task``. ``k`` is how
    many ranked chunks code is chosen from (default ``code_depth(budget)``). ``memories``: the
    memories already recalled for ``task`` (the shared MCP server recalls them from the caller's
    view of the store); None recalls them from the user's store."""
    if not task.strip():
        raise UserInputError("empty task: say what the agent should do")
    if budget < 1:
        raise UserInputError(f"budget must be at least 1 token, got {budget}")
    counter = counter or counter_for(model)
    with Workspace(root, settings, embedder=embedder) as ws:
        if index:
            ws.index(progress)
        hits = ws.search(task, k or code_depth(budget))
        notes: list[str] = []
        if memories is None:
            memories, notes = recall_memories(task, ws.embedder(build="background"), k=8)
        notes = [*dict.fromkeys(ws.warnings), *notes]
        rules = find_rules(ws.root, skipped=True)
        view = _load_session(session) if session else None
        root_text = str(ws.root)
    packed, state = assemble(
        task,
        budget=budget,
        counter=counter,
        root=root_text,
        hits=hits,
        memories=memories,
        rules=rules,
        session=view,
        keep_outputs=keep_outputs,
    )
    return ContextResult(task, model, root_text, packed, state, session, tuple(notes))


def _load_session(session_id: str) -> SessionView:
    with SessionStore.open() as store:
        events = store.events(session_id)
        compaction = store.latest_compaction(session_id)
    if compaction is None:
        return SessionView(session_id, tuple(events))
    return SessionView(session_id, tuple(events), load_summary(compaction), compaction.upto_seq)


def recall_memories(
    task: str,
    embedder: Embedder | None,
    *,
    k: int = 8,
    path: Path | None = None,
    store: MemoryStore | None = None,
) -> tuple[list[MemoryItem], list[str]]:
    """Memories for ``task`` from ``store`` (open, e.g. one user's view of the team database) or
    else from the user's store (the SQLite file ``path``, default the personal one, or the team
    database when ``database_url`` is set and no ``path`` is given); none and a note saying why
    when a personal store does not exist yet."""
    if store is not None:
        hits = store.recall(task, k=k)
    else:
        from contextos.memory import MemoryStore
        from contextos.store.backends import team_url

        team = bool(team_url(path))
        if not team and not (path or memory_db_path()).exists():
            return [], ["no memory store yet (nothing remembered): no memories recalled"]
        with MemoryStore.open(path, embedder=embedder) as opened:
            hits = opened.recall(task, k=k)
    items = [
        MemoryItem(h.memory.id, h.memory.tag, h.memory.text, h.memory.scope, h.score) for h in hits
    ]
    return items, []


def assemble(
    task: str,
    *,
    budget: int,
    counter: TokenCounter,
    root: str = ".",
    hits: Sequence[SearchHit] = (),
    memories: Sequence[MemoryItem] = (),
    rules: Sequence[RuleFile] = (),
    session: SessionView | None = None,
    tools: Sequence[ToolSpec] = DEFAULT_TOOLS,
    keep_outputs: int = 3,
) -> tuple[Pack, State]:
    """Every source as layers, then ``pack``. Pure: all inputs are given. Code comes from the
    ranked chunk ``hits``: as many, whole, as fit in what the other layers leave."""
    events = session.events if session is not None else ()
    found = list(dict.fromkeys(h.path for h in hits))[:_WORK_FILES]
    state = session_state(events, task=task, work_paths=[*parse_query(task).paths, *found])
    before: list[Layer] = [system_layer(root), *rule_layers(list(rules))]
    before += tool_layers(tools, state)
    memory = memory_layer(memories)
    before += [memory] if memory is not None else []
    after: list[Layer] = []
    if session is not None:
        after += history_layers(
            session.events,
            summary=session.summary,
            upto_seq=session.upto_seq,
            keep_outputs=keep_outputs,
            session=session.id,
        )
    after.append(task_layer(task, budget))
    state = dataclasses.replace(
        state, window_utilization=_demand([*before, *after], state, counter) / budget
    )
    after += reminder_layers(state)
    code: list[Layer] = []
    if hits:
        left = budget - pack([*before, *after], budget, counter, state).used
        room = max(left, int(budget * CODE_SHARE))
        chosen = select_code(hits, room, counter) if room > 0 else []
        code = chosen + _left_out(found, {x.id for x in chosen}, room)
    return pack([*before, *code, *after], budget, counter, state), state


def _left_out(found: Sequence[str], packed: set[str], room: int) -> list[Layer]:
    """The best files none of whose hits fit, as layers the report shows as left out."""
    return [
        Layer(
            id=f"code:{path}",
            content="",
            condition=_never,
            why=f"search rank {rank}: no hit of it fit whole in the {max(room, 0)} tokens for code",
        )
        for rank, path in enumerate(found, start=1)
        if f"code:{path}" not in packed
    ]


def _never(state: State) -> bool:
    return False


def _demand(layers: Sequence[Layer], state: State, counter: TokenCounter) -> int:
    """Tokens every live layer would take whole: how full the window wants to be."""
    live = [
        layer
        for layer in layers
        if not layer.expired(state) and (layer.condition is None or layer.condition(state))
    ]
    return sum(counter.count(layer.render(layer.body()) + SEPARATOR) for layer in live)

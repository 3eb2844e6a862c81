"""The memory commands: ``remember``, ``recall`` and the ``memory`` group. Parse, call, render.

``register(app)`` adds them to the main ``contextos`` app. Every command takes ``--json``;
errors end through ``_output`` (one line, exit 2 for user mistakes: unknown id, malformed
transcript, no model configured). Memory text is printed without markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from contextos.cli._output import emit, fail, handled, note, out, say, track, warn
from contextos.errors import ConfigError

if TYPE_CHECKING:
    from contextos.llm.protocol import LLM
    from contextos.memory import Memory, MemoryStore

__all__ = ["memory_app", "register"]

memory_app = typer.Typer(
    rich_markup_mode=None, help="Inspect, extract, consolidate, export and import memories."
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
IdArg = Annotated[str, typer.Argument(help="Memory id (see `contextos memory list`).")]
ScopeOpt = Annotated[str | None, typer.Option(help="user, project or agent.")]


def register(app: typer.Typer) -> None:
    """Add ``remember``, ``recall`` and the ``memory`` group to ``app``."""
    app.command()(remember)
    app.command()(recall)
    app.add_typer(memory_app, name="memory")


def _store(*, vectors: bool = False, llm: LLM | None = None) -> MemoryStore:
    embedder = None
    if vectors:
        from contextos.embed.resolve import model_pending, open_embedder
        from contextos.settings import load_settings

        settings = load_settings()  # the user's settings: memories belong to no one workspace
        embedder, warnings = open_embedder(settings, build="background")
        for warning in warnings:
            warn(warning)
        if embedder is None and model_pending(settings):
            note(
                "the embedding model is being built in the background: memories are stored now "
                "and embedded once it is ready; recall is lexical until then"
            )
    from contextos.memory import MemoryStore

    return MemoryStore.open(embedder=embedder, llm=llm)


def _llm() -> LLM:
    from contextos.llm.resolve import resolve_llm
    from contextos.settings import load_settings

    return resolve_llm(load_settings())


def _close(llm: LLM | None) -> None:
    close = getattr(llm, "close", None)
    if callable(close):
        close()


def _line(m: Memory) -> str:
    state = "" if m.valid_to is None and m.forgotten_at is None else " (closed)"
    return f"{m.id}  [{m.tag}/{m.scope}, score {m.score}]{state}  {m.text}"


def _table(rows: Sequence[tuple[str, ...]], headers: tuple[str, ...]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(*headers, show_header=True, header_style="bold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    out.print(table)


@handled()
def remember(
    text: Annotated[str, typer.Argument(help="What to remember, one self-contained sentence.")],
    tag: Annotated[str | None, typer.Option(help="Topic: letters, digits, hyphens.")] = None,
    scope: Annotated[str, typer.Option(help="user, project or agent.")] = "user",
    as_json: JsonOpt = False,
) -> None:
    """Remember TEXT explicitly (score 5, no model needed)."""
    with _store(vectors=True) as store:
        memory = store.remember(text, tag=tag, scope=scope, source="cli")
    emit(memory.to_dict(), as_json, lambda: say(f"remembered {_line(memory)}"))


@handled()
def recall(
    query: Annotated[str, typer.Argument(help="What to recall.")],
    k: Annotated[int, typer.Option("--k", "-k", min=1, help="Number of memories.")] = 8,
    scope: ScopeOpt = None,
    as_of: Annotated[str | None, typer.Option(help="ISO date-time: recall as of then.")] = None,
    expand: Annotated[bool, typer.Option(help="Also search model-written sub-queries.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Recall the memories most relevant to QUERY (hybrid lexical + vector search)."""
    from contextos.memory.records import from_iso

    when = from_iso(as_of) if as_of else None
    llm = _llm() if expand else None
    with _store(vectors=True, llm=llm) as store:
        hits = store.recall(query, k=k, scope=scope, as_of=when)
    _close(llm)
    rows = [(f"{h.score:.4f}", h.memory.id, h.memory.tag, h.memory.text) for h in hits]
    emit([h.to_dict() for h in hits], as_json, lambda: _table(rows, ("score", "id", "tag", "text")))


@memory_app.command("list")
@handled()
def list_(
    scope: ScopeOpt = None,
    tag: Annotated[str | None, typer.Option(help="Only this tag.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include closed and forgotten.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List current memories (every version with --all)."""
    with _store() as store:
        memories = store.memories(scope=scope, tag=tag, include_closed=all_)
    emit([m.to_dict() for m in memories], as_json, lambda: say(*(_line(m) for m in memories)))


@memory_app.command()
@handled()
def show(memory_id: IdArg, as_json: JsonOpt = False) -> None:
    """Show every field of one memory."""
    with _store() as store:
        data = store.get(memory_id).to_dict()
    emit(data, as_json, lambda: say(*(f"{k}: {v}" for k, v in data.items())))


@memory_app.command()
@handled()
def edit(
    memory_id: IdArg,
    text: Annotated[str, typer.Argument(help="The new text.")],
    tag: Annotated[str | None, typer.Option(help="A new tag.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a new version of a memory (the old one stays in history)."""
    with _store(vectors=True) as store:
        memory = store.edit(memory_id, text, tag=tag)
    emit(memory.to_dict(), as_json, lambda: say(f"new version {_line(memory)}"))


@memory_app.command()
@handled()
def forget(
    memory_id: IdArg,
    reason: Annotated[str, typer.Option(help="Why (kept in history).")] = "forgotten on request",
    as_json: JsonOpt = False,
) -> None:
    """Forget a memory: never recalled again; the change is logged in history."""
    with _store() as store:
        memory = store.forget(memory_id, reason=reason)
    emit(memory.to_dict(), as_json, lambda: say(f"forgot {memory.id}"))


@memory_app.command()
@handled()
def history(memory_id: IdArg, as_json: JsonOpt = False) -> None:
    """Every change to a memory and its other versions, oldest first."""
    with _store() as store:
        entries = store.history(memory_id)
    rows = [(str(e.id), e.ts.isoformat(), e.target, e.action, e.reason) for e in entries]
    headers = ("#", "when", "memory", "action", "reason")
    emit([e.to_dict() for e in entries], as_json, lambda: _table(rows, headers))


@memory_app.command()
@handled()
def extract(
    transcript: Annotated[Path | None, typer.Option(help="JSONL file of {role, content}.")] = None,
    conversation: Annotated[str | None, typer.Option(help="Conversation id.")] = None,
    min_score: Annotated[int, typer.Option(min=1, max=5, help="Keep scores >= this.")] = 4,
    as_json: JsonOpt = False,
) -> None:
    """Extract memories from a transcript with the configured model (or retry pending jobs)."""
    from contextos.memory.jobs import ExtractionQueue
    from contextos.memory.transcript import read_transcript

    messages = read_transcript(transcript) if transcript is not None else None
    llm = _llm()
    with _store(vectors=True) as store:
        queue = ExtractionQueue(store, llm, min_score=min_score)
        if messages is not None and transcript is not None:
            name = conversation or transcript.stem
            jobs = queue.enqueue_transcript(messages, conversation=name)
        else:
            jobs = queue.pending()
        outcomes = [queue.run(job) for job in track(jobs, "extract", not as_json)]
    _close(llm)
    rows = [
        (str(o.job_id), o.status, o.action or "-", o.candidate or "", o.error or "")
        for o in outcomes
    ]
    headers = ("job", "status", "action", "candidate", "error")
    emit([o.to_dict() for o in outcomes], as_json, lambda: _table(rows, headers))
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        fail(
            f"{len(failed)} extraction job(s) failed; the transcript is kept, "
            "re-run `contextos memory extract` to retry"
        )


@memory_app.command()
@handled()
def consolidate(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan only.")] = False,
    min_score: Annotated[int, typer.Option(min=1, max=5, help="Drop scores below this.")] = 3,
    as_json: JsonOpt = False,
) -> None:
    """Merge near-duplicates, drop low-value memories, resolve contradictions (plan first)."""
    from contextos.memory.consolidate import apply, describe, plan

    try:
        llm: LLM | None = _llm()
    except ConfigError:
        llm = None
        note("no model configured, merging conservatively")
    with _store(vectors=True) as store:
        todo = plan(store, llm=llm, min_score=min_score)
        report = None if dry_run else apply(store, todo)
    _close(llm)
    data = {"plan": todo.to_dict()["steps"], "applied": report}
    emit(data, as_json, lambda: say(*describe(todo, report)))


@memory_app.command("export")
@handled()
def export_(
    directory: Annotated[Path, typer.Argument(help="Directory to write into.")],
    format_: Annotated[str, typer.Option("--format", help="markdown or agents-md.")] = "markdown",
    scope: Annotated[str | None, typer.Option(help="Only this scope (agents-md).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Export one Markdown file per tag (lossless), or an AGENTS.md section."""
    from contextos.memory.portable import export

    with _store() as store:
        names = [str(f) for f in export(store, directory, format_, scope=scope)]
    emit({"files": names}, as_json, lambda: say(*(f"wrote {n}" for n in names)))


@memory_app.command("import")
@handled()
def import_(
    directory: Annotated[Path, typer.Argument(help="Directory of exported .md files.")],
    as_json: JsonOpt = False,
) -> None:
    """Import memories exported with `contextos memory export`."""
    from contextos.memory.portable import import_markdown

    with _store(vectors=True) as store:
        counts = import_markdown(store, directory)
    emit(counts, as_json, lambda: say(", ".join(f"{v} {k}" for k, v in counts.items())))

"""Everything the CLI prints goes through here: the two consoles, ``--json``, progress, errors.

One rule for errors: a ``ContextosError`` (or a typer usage error) ends the command with one line
on stderr, ``error: <what happened and what to do>``, and the exit code the error carries: 2 for a
user mistake, 1 for a failure. Ctrl-C ends it with one line and 130. Commands never catch errors
themselves; they are wrapped in ``handled()``, and ``run()`` turns typer's own usage errors into
the same one line. A traceback therefore means a bug in contextos.

Leaves out: what a command prints on success (each command module renders its own data). Rich's
progress and table modules are imported only when used, so ``contextos --help`` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ContextDecorator, contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from contextos.errors import ContextosError

if TYPE_CHECKING:
    from rich.progress import TaskID

__all__ = [
    "Progress",
    "emit",
    "err",
    "fail",
    "handled",
    "note",
    "out",
    "progress",
    "run",
    "say",
    "track",
    "warn",
]

T = TypeVar("T")
Progress = Callable[[str, int, int], None]
"""The library's progress callback: ``(stage, done, total)``."""

out = Console()
"""Data and results (stdout). In ``mcp serve`` over stdio, stdout is the protocol's: not used."""
err = Console(stderr=True)
"""Errors, warnings, notes and progress bars (stderr)."""

_UNITS = {
    "index": "files/s",
    "embed": "chunks/s",
    "distill": "tokens/s",
    "memory": "rows/s",
    "sessions": "rows/s",
}


def _line(label: str, style: str, message: str) -> None:
    """``label: message`` on stderr as exactly one line, whatever the width or the brackets."""
    text = " ".join(part.strip() for part in message.strip().splitlines() if part.strip())
    err.print(Text.assemble((f"{label}:", style), f" {text}"), soft_wrap=True, highlight=False)


def warn(message: str) -> None:
    """A problem that did not stop the command (a skipped setting, a degraded mode)."""
    _line("warning", "yellow", message)


def note(message: str) -> None:
    """Something the user should know about the result (a background build, a fallback)."""
    _line("note", "cyan", message)


def fail(error: ContextosError | str, code: int | None = None) -> NoReturn:
    """Print ``error: ...`` as one line and end the command.

    The exit code is ``code`` if given, else the error's ``exit_code`` (2 for user mistakes),
    else 1 for a plain message.
    """
    if code is None:
        code = error.exit_code if isinstance(error, ContextosError) else 1
    _line("error", "red", str(error))
    raise typer.Exit(code) from None


def handled(interrupted: str = "interrupted") -> _Handled:
    """Decorate every command with ``@handled()``: a ``ContextosError`` ends it through ``fail``,
    Ctrl-C with one line (``interrupted`` unless the command says more) and exit 130. Works as a
    ``with`` block too."""
    return _Handled(interrupted)


class _Handled(ContextDecorator):
    def __init__(self, interrupted: str) -> None:
        self.interrupted = interrupted

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, ContextosError):
            fail(exc)
        if isinstance(exc, KeyboardInterrupt):
            say(self.interrupted, stderr=True)
            raise typer.Exit(130) from None


def run(app: typer.Typer) -> int:
    """Run ``app`` on ``sys.argv`` and return the exit code.

    Typer's own errors (a bad option value, a missing argument, an unknown command) would print a
    usage block; here they print the same one line as ours, with where to find help. So does an
    argument that is not valid UTF-8 (Python hands it over with lone surrogates, which no
    database, JSON document or terminal can take): exit 2.
    """
    for arg in sys.argv[1:]:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            message = (
                f"argument {os.fsencode(arg)!r} is not valid UTF-8: pass text and paths as UTF-8"
            )
            _line("error", "red", message)
            return 2
    try:
        result = app(standalone_mode=False)
    except typer.Abort as exc:  # Ctrl-C or end of input at a prompt
        if isinstance(exc.__context__, KeyboardInterrupt):
            say("interrupted", stderr=True)
            return 130
        _line("error", "red", "aborted: no answer to the question")
        return 1
    except typer.TyperException as exc:
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError":  # typer checks it by name too (#1278)
            typer.echo(exc.format_message(), err=True)
            return exc.exit_code
        message = exc.format_message().rstrip(".")
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        _line("error", "red", message[:1].lower() + message[1:] + hint)
        return exc.exit_code
    return result if isinstance(result, int) else 0


def emit(data: Any, as_json: bool, human: Callable[[], object]) -> None:
    """``--json``: print ``data`` as indented JSON on stdout (colored on a terminal), else call
    ``human`` to render it."""
    if not as_json:
        human()
        return
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if out.is_terminal:
        out.print_json(text)
    else:
        typer.echo(text)


def say(*lines: str, stderr: bool = False) -> None:
    """Print plain lines (no markup, no wrapping: memory text and paths may hold brackets)."""
    console = err if stderr else out
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


@contextmanager
def progress(show: bool) -> Iterator[Progress]:
    """A progress bar per stage on stderr, with a rate, fed by the library's progress callback;
    a no-op callback when ``show`` is false or stderr is not a terminal."""
    if not (show and err.is_terminal):
        yield lambda *_: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with Bar(*columns, console=err, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total, rate="")
            task = tasks[stage]
            bar.update(task, completed=done, total=total)
            speed = bar.tasks[task].speed
            if speed:
                bar.update(task, rate=f"{speed:,.0f} {_UNITS.get(stage, '/s')}")

        yield update


def track(items: Sequence[T], label: str, show: bool) -> Iterable[T]:
    """``items`` with a progress bar on stderr when ``show`` and stderr is a terminal."""
    if not (show and err.is_terminal):
        return items
    from rich.progress import track as rich_track

    return rich_track(items, description=label, console=err, transient=True)

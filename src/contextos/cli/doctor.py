"""The ``doctor`` command: check ``CONTEXTOS_HOME`` and every database; ``--rebuild`` re-creates
damaged indexes. Parse, call ``contextos.doctor.doctor``, render.

One line per thing checked on stdout (``ok`` or ``PROBLEM``, then what was done and what is left
to do); if a problem is left, the command ends with one ``error:`` line and exit 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from contextos.cli._output import emit, fail, handled, progress, say

if TYPE_CHECKING:
    from contextos.doctor import Finding

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``doctor`` to ``app``."""
    app.command()(doctor)


def _lines(findings: list[Finding]) -> list[str]:
    lines: list[str] = []
    for f in findings:
        state = "ok" if f.problem is None else ("fixed" if f.ok else "PROBLEM")
        where = f"{f.what} (this workspace)" if f.this_workspace else f.what
        lines.append(f"{state:8} {where}: {f.path}" + (f": {f.problem}" if f.problem else ""))
        lines += [
            f"         {label}: {text}"
            for label, text in (("done", f.done), ("to do", f.todo))
            if text
        ]
    return lines


@handled()
def doctor(
    path: Annotated[
        Path, typer.Argument(help="The workspace whose index --rebuild re-indexes (default: .).")
    ] = Path("."),
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Move damaged indexes aside and re-create them.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Check CONTEXTOS_HOME and every database (page by page); --rebuild re-creates indexes."""
    from contextos.doctor import doctor as run_doctor

    with progress(not as_json) as update:
        findings = run_doctor(path, rebuild=rebuild, progress=update)
    emit([f.to_dict() for f in findings], as_json, lambda: say(*_lines(findings)))
    left = [f for f in findings if not f.ok]
    if left:
        names = ", ".join(dict.fromkeys(f.what for f in left))
        fail(f"{len(left)} problem(s) left ({names}): see what to do above", 1)

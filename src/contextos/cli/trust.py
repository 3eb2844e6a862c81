"""``contextos trust``: let a repository's ``.contextos.toml`` set every setting, or stop it.
Parse, call ``contextos.trust``, render.

Without trust a repository file may only tune indexing; endpoints, keys and models in it are
ignored with a warning (see ``contextos.settings.REPO_SAFE``). Errors end through ``_output``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from contextos.cli._output import emit, handled, say
from contextos.errors import UserInputError

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``trust`` to ``app``."""
    app.command(name="trust")(trust)


@handled()
def trust(
    path: Annotated[
        Path | None, typer.Argument(help="Repository root to trust (resolved; exact match).")
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Stop trusting PATH.")] = False,
    show: Annotated[bool, typer.Option("--list", help="List the trusted repositories.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Trust the repository at PATH: its .contextos.toml may then set endpoints, API keys and
    models, not only indexing knobs. Like git's safe.directory, for that exact path only."""
    from contextos import trust as store

    if show:
        if path is not None or remove:
            raise UserInputError("--list takes no PATH and no --remove: use one at a time")
        roots = [str(r) for r in store.trusted_roots()]
        emit(roots, as_json, lambda: say(*roots) if roots else say("no trusted repositories"))
        return
    if path is None:
        raise UserInputError("missing PATH: give the repository to trust, or use --list")
    if remove:
        root = store.untrust(path)
        emit({"path": str(root), "trusted": False}, as_json, lambda: say(f"untrusted {root}"))
        return
    root = store.trust(path)
    emit(
        {"path": str(root), "trusted": True},
        as_json,
        lambda: say(f"trusted {root}: its .contextos.toml may now set every setting"),
    )

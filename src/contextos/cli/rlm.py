"""The ``rlm`` command (registered on the main app by ``register``).

``contextos rlm "QUESTION" --input FILE_OR_DIR`` answers a question about an input too large for
a window with ``contextos.agent.rlm.Rlm``: the input stays outside the window and the model reads
it through tools, recursing into pieces with sub-queries. Parse, call the library, render.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from contextos.cli._output import emit, handled, say

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add this module's command to ``app``."""
    app.command("rlm")(rlm)


@handled()
def rlm(
    question: Annotated[str, typer.Argument(help="The question about the input.")],
    input_path: Annotated[
        Path, typer.Option("--input", "-i", help="A file, or a directory of text files.")
    ],
    model: Annotated[
        str | None, typer.Option(help="Model as provider:name (default: settings' model).")
    ] = None,
    max_depth: Annotated[int, typer.Option(min=0, help="Deepest level of sub-queries.")] = 2,
    max_calls: Annotated[
        int, typer.Option(min=1, help="Model calls in all, sub-queries included.")
    ] = 40,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Answer QUESTION about an input too large for a window, reading it through tools."""
    from contextos.agent.rlm import Rlm, load_input
    from contextos.errors import UserInputError
    from contextos.llm.resolve import resolve_tool_llm
    from contextos.settings import load_settings

    if not question.strip():
        raise UserInputError("empty question: say what to find out about the input")
    if not input_path.exists():
        raise UserInputError(f"input {input_path} does not exist: give a file or a directory")
    settings = load_settings(model=model)
    llm = resolve_tool_llm(settings)
    text = load_input(input_path, max_file_bytes=settings.max_file_bytes)
    result = Rlm(llm, max_depth, max_calls).ask(question, text).to_dict()
    emit(result, as_json, lambda: _print(result))


def _print(result: dict[str, Any]) -> None:
    say(result["answer"])
    say(
        f"{result['reason']}: {result['calls']} model calls, depth {result['max_depth_reached']},"
        f" {result['input_tokens'] + result['output_tokens']} tokens",
        stderr=True,
    )

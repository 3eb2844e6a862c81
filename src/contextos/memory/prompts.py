"""Versioned prompt templates, shipped as files inside the package (``prompts/<name>_v<N>.md``).

A template is plain Markdown with ``$placeholders`` (``string.Template``): editing a prompt is a
new file with a new version number, so stored outcomes can name the prompt that produced them.
Values substituted in are quoted data (conversation, memories), never instructions; each prompt
says so to the model.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from string import Template

__all__ = ["PROMPT_VERSIONS", "render"]

PROMPT_VERSIONS: dict[str, str] = {
    "extract": "extract_v1",
    "evaluate": "evaluate_v1",
    "update": "update_v1",
    "queries": "queries_v1",
    "merge": "merge_v1",
}


@cache
def _template(name: str) -> Template:
    text = files("contextos.memory").joinpath("prompts", f"{name}.md").read_text("utf-8")
    return Template(text)


def render(step: str, **values: str) -> str:
    """The current template of ``step`` with ``values`` substituted (all must be given)."""
    return _template(PROMPT_VERSIONS[step]).substitute(values)

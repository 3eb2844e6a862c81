"""Export and import: one Markdown file per tag, lossless, readable and editable by people.

A file ``<tag>.md`` holds every version of every memory with that tag, oldest first, each as a
YAML front-matter block followed by the memory text::

    ---
    id: "3fa9c2d4e5f6"
    scope: "user"
    score: 5
    valid_from: "2025-01-07T10:00:00.000000Z"
    valid_to: null
    ...
    ---
    The user prefers tabs.

Front-matter values are written as JSON scalars and arrays, which are valid YAML, so any YAML
parser reads them; this module's reader also accepts plain unquoted strings, for hand edits.
The text is the body verbatim; a body line that is ``---`` (after any backslashes) gets one more
leading backslash, and a text that starts or ends with a newline is also written as ``text:`` in
the front matter (which then wins), so every text survives the round trip. Embeddings are
derived data: not exported, recomputed on import. ``import`` of an id already present with the
same content changes nothing; with new text it becomes a new version (UPDATE) of that memory.

``agents_md`` renders current memories as a section to paste into AGENTS.md or CLAUDE.md.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from contextos.errors import UserInputError
from contextos.memory import versions
from contextos.memory.records import Memory, check_scope, check_score, check_tag, from_iso
from contextos.memory.store import MemoryStore
from contextos.secrets import refuse_secrets

__all__ = [
    "AGENTS_FILE",
    "agents_md",
    "export",
    "export_markdown",
    "import_markdown",
    "parse_file",
    "render_file",
]

AGENTS_FILE = "AGENTS.memories.md"

_FIELDS = (
    "id",
    "tag",
    "scope",
    "source",
    "score",
    "created_at",
    "valid_from",
    "valid_to",
    "superseded_by",
    "forgotten_at",
    "keywords",
)
_RULE = re.compile(r"^\\*---$")
_KEY = re.compile(r"^([a-z_]+):\s?(.*)$")


def _escape(line: str) -> str:
    return "\\" + line if _RULE.match(line) else line


def _unescape(line: str) -> str:
    return line[1:] if _RULE.match(line) and line.startswith("\\") else line


def render_file(memories: list[Memory]) -> str:
    parts: list[str] = []
    for memory in memories:
        data = memory.to_dict()
        lines = ["---", *(f"{k}: {json.dumps(data[k], ensure_ascii=False)}" for k in _FIELDS)]
        if memory.text != memory.text.strip("\n"):
            lines.append(f"text: {json.dumps(memory.text, ensure_ascii=False)}")
        lines.append("---")
        lines.extend(_escape(line) for line in memory.text.split("\n"))
        parts.append("\n".join(lines) + "\n\n")
    return "".join(parts)


def _value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw.strip()


def _blocks(content: str, where: str) -> Iterator[tuple[dict[str, Any], list[str], int]]:
    lines = content.split("\n")
    i = 0
    while i < len(lines):
        if lines[i] != "---":
            if lines[i].strip():
                raise UserInputError(f"{where}:{i + 1}: expected '---' to open a memory")
            i += 1
            continue
        start, front = i + 1, {}
        i += 1
        while i < len(lines) and lines[i] != "---":
            match = _KEY.match(lines[i])
            if match is None:
                raise UserInputError(f"{where}:{i + 1}: expected 'key: value' in front matter")
            front[match.group(1)] = _value(match.group(2))
            i += 1
        if i >= len(lines):
            raise UserInputError(f"{where}:{start}: front matter is not closed with '---'")
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i] != "---":
            body.append(lines[i])
            i += 1
        yield front, body, start


def _memory(front: dict[str, Any], body: list[str], tag: str, where: str) -> Memory:
    text = front.get("text")
    if not isinstance(text, str):
        text = "\n".join(_unescape(line) for line in body).strip("\n")
    try:
        refuse_secrets(text)
        return Memory(
            id=str(front["id"]),
            text=text,
            tag=check_tag(str(front.get("tag", tag))),
            scope=check_scope(str(front.get("scope", "user"))),
            source=front.get("source"),
            score=check_score(int(front.get("score", 5))),
            created_at=from_iso(str(front["created_at"])),
            valid_from=from_iso(str(front["valid_from"])),
            valid_to=from_iso(front["valid_to"]) if front.get("valid_to") else None,
            superseded_by=front.get("superseded_by"),
            forgotten_at=from_iso(front["forgotten_at"]) if front.get("forgotten_at") else None,
            keywords=tuple(str(k) for k in front.get("keywords") or ()),
        )
    except (KeyError, TypeError, ValueError, UserInputError) as exc:
        raise UserInputError(f"{where}: invalid memory ({exc})") from exc


def parse_file(path: Path) -> list[Memory]:
    """The memories in one exported file; ``UserInputError`` naming the line if malformed."""
    try:
        content = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"cannot read {path}: {exc}") from exc
    return [
        _memory(front, body, path.stem, f"{path}:{line}")
        for front, body, line in _blocks(content, str(path))
    ]


def export_markdown(store: MemoryStore, directory: Path) -> list[Path]:
    """Write ``<tag>.md`` for every tag (all versions); return the files written."""
    by_tag: dict[str, list[Memory]] = defaultdict(list)
    for memory in store.memories(include_closed=True):
        by_tag[memory.tag].append(memory)
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for tag in sorted(by_tag):
        path = directory / f"{tag}.md"
        path.write_bytes(render_file(by_tag[tag]).encode("utf-8"))
        written.append(path)
    return written


def import_markdown(store: MemoryStore, directory: Path) -> dict[str, int]:
    """Read every ``*.md`` export in ``directory``; returns counts added/updated/unchanged."""
    if not directory.is_dir():
        raise UserInputError(f"{directory} is not a directory")
    incoming = [m for path in sorted(directory.glob("*.md")) for m in parse_file(path)]
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    fresh: list[Memory] = []
    for memory in incoming:
        existing = store.connection.execute(
            "SELECT 1 FROM memories WHERE id = ?", (memory.id,)
        ).fetchone()
        if existing is None:
            fresh.append(memory)
        elif store.get(memory.id) == memory:
            counts["unchanged"] += 1
        else:
            store.edit(memory.id, memory.text, tag=memory.tag)
            counts["updated"] += 1
    fresh = store.embed(fresh)
    with store.transaction() as conn:
        versions.add(conn, fresh, embed_model=store.embed_model, action="IMPORT", reason="import")
    counts["added"] = len(fresh)
    return counts


def agents_md(store: MemoryStore, scope: str | None = None) -> str:
    """Current memories as a Markdown section for AGENTS.md / CLAUDE.md, grouped by tag."""
    by_tag: dict[str, list[str]] = defaultdict(list)
    for memory in store.memories(scope=scope):
        by_tag[memory.tag].append(" ".join(memory.text.split()))
    lines = ["## Memories", "", "Remembered preferences and facts (exported by contextos)."]
    for tag in sorted(by_tag):
        lines += ["", f"### {tag}", ""]
        lines += [f"- {text}" for text in by_tag[tag]]
    return "\n".join(lines) + "\n"


def export(
    store: MemoryStore, directory: Path, fmt: str = "markdown", *, scope: str | None = None
) -> list[Path]:
    """``markdown``: ``export_markdown`` (all scopes, lossless); ``agents-md``: the
    ``agents_md`` section written to ``directory/AGENTS.memories.md``."""
    if fmt == "markdown":
        return export_markdown(store, directory)
    if fmt != "agents-md":
        raise UserInputError(f"unknown format {fmt!r}: use markdown or agents-md")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / AGENTS_FILE
    path.write_text(agents_md(store, scope), encoding="utf-8")
    return [path]

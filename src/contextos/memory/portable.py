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
derived data: not exported, recomputed on import. Files may have CRLF line ends and a UTF-8
byte-order mark (an editor on Windows), and a text holding a carriage return is also written as
``text:``, so that survives too.

``import`` is all or nothing. Every record of every file is validated first (known fields, ids,
non-empty text free of secrets, tag, scope, a whole score from 1 to 5, ISO dates with
``valid_to`` not before ``valid_from``, keywords a list of strings, no id twice), and so is what
it would change; the first problem is a ``UserInputError`` naming the file, line, record and
id, and nothing is written. Then everything is written in one transaction. An id already
present with the same text and tag changes nothing (its lifecycle in the store is newer than an
export's); with new text or tag it becomes a new version (UPDATE) of that memory, which must
still be current.

``agents_md`` renders current memories as a section to paste into AGENTS.md or CLAUDE.md.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from contextos.errors import ContextosError, UserInputError
from contextos.memory import versions
from contextos.memory.ingest import build_memory
from contextos.memory.records import (
    Memory,
    check_scope,
    check_score,
    check_tag,
    check_text,
    from_iso,
)
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
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
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
        if memory.text != memory.text.strip("\n") or "\r" in memory.text:
            lines.append(f"text: {json.dumps(memory.text, ensure_ascii=False)}")
        lines.append("---")
        lines.extend(_escape(line) for line in memory.text.split("\n"))
        parts.append("\n".join(lines) + "\n\n")
    return "".join(parts)


def _value(raw: str, where: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw.strip()
    except RecursionError as exc:
        raise UserInputError(f"{where}: value nested too deeply") from exc


def _blocks(content: str, where: str) -> Iterator[tuple[dict[str, Any], list[str], int]]:
    lines = content.split("\n")
    i = n = 0
    while i < len(lines):
        if lines[i] != "---":
            if lines[i].strip():
                raise UserInputError(f"{where}:{i + 1}: expected '---' to open a memory")
            i += 1
            continue
        start, front, n = i + 1, {}, n + 1
        i += 1
        while i < len(lines) and lines[i] != "---":
            at = f"{where}:{i + 1} (record {n})"
            match = _KEY.match(lines[i])
            if match is None:
                raise UserInputError(f"{at}: expected 'key: value' in front matter")
            front[match.group(1)] = _value(match.group(2), at)
            i += 1
        if i >= len(lines):
            raise UserInputError(f"{where}:{start}: front matter is not closed with '---'")
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i] != "---":
            body.append(lines[i])
            i += 1
        yield front, body, start


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _string(front: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = front.get(key)
    if value is None and not required:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and key in ("id", "superseded_by"):
        value = str(value)  # an unquoted all-digit id in a hand edit
    if not isinstance(value, str):
        wanted = "a string" if required else "a string or null"
        raise UserInputError(f"'{key}' must be {wanted}, got {_shown(value)}")
    return check_text(value, f"'{key}'")


def _id(front: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = _string(front, key, required=required)
    if value is not None and not _ID.match(value):
        raise UserInputError(
            f"invalid {key} {_shown(value)}: letters, digits, '-' and '_' (exports: 12 hex digits)"
        )
    return value


def _time(front: dict[str, Any], key: str) -> datetime | None:
    value = _string(front, key)
    return from_iso(value) if value is not None else None


def _required_time(front: dict[str, Any], key: str) -> datetime:
    return from_iso(str(_string(front, key, required=True)))


def _score(front: dict[str, Any]) -> int:
    score = front.get("score", 5)
    if isinstance(score, bool) or not isinstance(score, int):
        raise UserInputError(f"invalid score {_shown(score)}: scores are whole numbers from 1 to 5")
    return check_score(score)


def _keywords(front: dict[str, Any]) -> tuple[str, ...]:
    keywords = front.get("keywords") or []
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise UserInputError(f"'keywords' must be a list of strings, got {_shown(keywords)}")
    return tuple(check_text(k, "a keyword") for k in keywords)


def _memory(front: dict[str, Any], body: list[str], tag: str) -> Memory:
    """One validated record; ``UserInputError`` (without a location) on the first problem."""
    unknown = sorted(set(front) - {*_FIELDS, "text"})
    if unknown:
        raise UserInputError(f"unknown field {_shown(unknown[0])}: fields are {', '.join(_FIELDS)}")
    text = front.get("text")
    if not isinstance(text, str):
        text = "\n".join(_unescape(line) for line in body).strip("\n")
    if not text.strip():
        raise UserInputError("empty text: a memory needs its text after the front matter")
    refuse_secrets(check_text(text, "the text"))
    memory = Memory(
        id=str(_id(front, "id", required=True)),
        text=text,
        tag=check_tag(_string(front, "tag") or tag),
        scope=check_scope(_string(front, "scope") or "user"),
        source=_string(front, "source"),
        score=_score(front),
        created_at=_required_time(front, "created_at"),
        valid_from=_required_time(front, "valid_from"),
        valid_to=_time(front, "valid_to"),
        superseded_by=_id(front, "superseded_by"),
        forgotten_at=_time(front, "forgotten_at"),
        keywords=_keywords(front),
    )
    if memory.valid_to is not None and memory.valid_to < memory.valid_from:
        raise UserInputError("valid_to is before valid_from")
    return memory


def _records(path: Path) -> list[tuple[Memory, str]]:
    """The memories in one file, each with where it is (``file:line (record n, id x)``)."""
    try:
        content = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"cannot read {path}: {exc}") from exc
    content = content.removeprefix("\ufeff").replace("\r\n", "\n")
    records: list[tuple[Memory, str]] = []
    for n, (front, body, line) in enumerate(_blocks(content, str(path)), start=1):
        ident = front.get("id")
        where = f"{path}:{line} (record {n}" + (f", id {ident}" if ident is not None else "") + ")"
        try:
            records.append((_memory(front, body, path.stem), where))
        except UserInputError as exc:
            raise UserInputError(f"{where}: {exc}") from exc
    return records


def parse_file(path: Path) -> list[Memory]:
    """The memories in one exported file; ``UserInputError`` naming the line if malformed."""
    return [memory for memory, _ in _records(path)]


def export_markdown(store: MemoryStore, directory: Path) -> list[Path]:
    """Write ``<tag>.md`` for every tag (all versions); return the files written."""
    by_tag: dict[str, list[Memory]] = defaultdict(list)
    for memory in store.memories(include_closed=True):
        by_tag[memory.tag].append(memory)
    _make_directory(directory)
    written: list[Path] = []
    for tag in sorted(by_tag):
        path = directory / f"{tag}.md"
        _write(path, render_file(by_tag[tag]))
        written.append(path)
    return written


def _make_directory(directory: Path) -> None:
    """Create the export directory (and its parents); refuse a file in the way."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise UserInputError(
            f"cannot export into {directory}: it is a file; give a directory (created if missing)"
        ) from exc
    except NotADirectoryError as exc:
        raise UserInputError(
            f"cannot export into {directory}: a part of that path is a file, not a directory"
        ) from exc
    except OSError as exc:
        raise ContextosError(f"cannot create {directory}: {exc.strerror or exc}") from exc


def _write(path: Path, text: str) -> None:
    try:
        path.write_bytes(text.encode("utf-8"))
    except IsADirectoryError as exc:
        raise UserInputError(f"cannot write {path}: a directory is in the way") from exc
    except OSError as exc:
        raise ContextosError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _plan(
    store: MemoryStore, records: list[tuple[Memory, str]]
) -> tuple[list[Memory], list[tuple[Memory, str]], int]:
    """What importing ``records`` changes: fresh memories, (new version, id it replaces) pairs
    and the unchanged count.
    Reads only; raises ``UserInputError`` naming the record for anything that cannot be done."""
    seen: dict[str, str] = {}
    fresh: list[Memory] = []
    updates: list[tuple[Memory, str]] = []
    unchanged = 0
    for memory, where in records:
        if memory.id in seen:
            raise UserInputError(f"{where}: id {memory.id} is also at {seen[memory.id]}")
        seen[memory.id] = where
        try:
            stored = store.get(memory.id)
        except UserInputError:
            fresh.append(memory)
            continue
        if (stored.text, stored.tag) == (memory.text, memory.tag):
            unchanged += 1
            continue
        try:
            versions.current(store.connection, memory.id)
        except UserInputError as exc:
            raise UserInputError(f"{where}: has new text or tag, but {exc}") from exc
        new = build_memory(memory.text, memory.tag, stored.scope, stored.source, None, stored.score)
        updates.append((new, memory.id))
    return fresh, updates, unchanged


def import_markdown(store: MemoryStore, directory: Path) -> dict[str, int]:
    """Read every ``*.md`` export in ``directory``: all validated, then written in one
    transaction (see the module docstring); returns counts added/updated/unchanged."""
    if not directory.is_dir():
        raise UserInputError(f"{directory} is not a directory")
    records = [r for path in sorted(directory.glob("*.md")) for r in _records(path)]
    fresh, updates, unchanged = _plan(store, records)
    fresh = store.embed(fresh)
    new_versions = store.embed([new for new, _ in updates])
    with store.transaction() as conn:
        for new, (_, old_id) in zip(new_versions, updates, strict=True):
            versions.supersede(
                conn, old_id, new, action="UPDATE", reason="import", embed_model=store.embed_model
            )
        versions.add(conn, fresh, embed_model=store.embed_model, action="IMPORT", reason="import")
    return {"added": len(fresh), "updated": len(updates), "unchanged": unchanged}


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
    _make_directory(directory)
    path = directory / AGENTS_FILE
    _write(path, agents_md(store, scope))
    return [path]

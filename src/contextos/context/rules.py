"""Project rules: AGENTS.md, CLAUDE.md and .cursor/rules, nested per directory as Codex does.

A rules file in directory D applies to work in D and below: the root's files always apply, a
nested one only when the task touches a file under its directory (``State.work_paths``: files
mentioned, read, edited or found). Files are packed root first, so more specific rules come
later and win, as in Codex. Cursor rules (``.cursor/rules/*.mdc`` or ``*.md``, under any
directory) follow their front matter: ``alwaysApply: true``; ``globs`` matched against the work
paths; a ``description`` only, when the task shares a word with it; otherwise only when the task
names the rule as ``@name``. Files are found by the one walker (``contextos.walk``), so a rules
file the walk does not see (git-ignored, ``.contextosignore``-d, vendored, a symlink out of the
root, over 64 KiB, holding a private key) is not used, and secret values in a used one are
redacted. A rules file that is a symlink leading out of the root (``CLAUDE.md -> ~/.ssh/id_rsa``)
or to a secret file is listed with ``find_rules(root, skipped=True)`` as skipped, and its layer
is reported as left out with the reason. Left out: ``.cursorrules`` (deprecated) and user-level
rule files.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pathspec

from contextos.context.compress import density
from contextos.context.layers import Condition, Layer, State
from contextos.walk import link_reason, text_files

__all__ = ["RuleFile", "applies", "find_rules", "rule_layers"]

RULE_NAMES = ("AGENTS.md", "CLAUDE.md")
_CURSOR_RULES = "/.cursor/rules/"
_MAX_BYTES = 64 * 1024
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?", re.S)
_WORD = re.compile(r"[a-z][a-z0-9]{3,}")


@dataclass(frozen=True, slots=True)
class RuleFile:
    """A rules file: ``path`` relative to the root, ``scope`` the directory it governs."""

    path: str
    scope: str
    text: str
    always: bool = True
    globs: tuple[str, ...] = ()
    description: str = ""
    skipped: str = ""
    """Why the walk skipped this file (then ``text`` is empty), or empty when it is used."""

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).stem


def _cursor_scope(rel: str) -> str | None:
    """The directory a Cursor rule at ``rel`` governs, or ``None`` if ``rel`` is not one."""
    head, sep, _ = f"/{rel}".partition(_CURSOR_RULES)
    return head.lstrip("/") if sep and rel.endswith((".mdc", ".md")) else None


def _is_rules_file(rel: str) -> bool:
    return _cursor_scope(rel) is not None or rel.rpartition("/")[2] in RULE_NAMES


_LINK_SKIPS = {
    "symlink_outside_root": "a symlink that leads outside the workspace root",
    "secret": "a symlink to a secret file",
}


def find_rules(root: Path, *, skipped: bool = False) -> list[RuleFile]:
    """Every rules file the walk of ``root`` sees, shallowest directory first; with
    ``skipped``, also the rules files the walk skipped as symlinks out of the root or to a
    secret file, each with the reason in ``RuleFile.skipped``."""
    found: list[RuleFile] = []
    asked: list[str] = []

    def wanted(rel: str) -> bool:
        keep = _is_rules_file(rel)
        if keep:
            asked.append(rel)
        return keep

    for file in text_files(root, max_file_bytes=_MAX_BYTES, wanted=wanted):
        scope = _cursor_scope(file.rel)
        if scope is not None:
            found.append(_cursor_rule(file.rel, scope, file.text))
        else:
            found.append(RuleFile(file.rel, file.rel.rpartition("/")[0], file.text.strip()))
    used = {r.path for r in found}
    for rel in asked if skipped else ():
        why = _LINK_SKIPS.get(link_reason(root, str(root / rel)) or "")
        if rel not in used and why:
            scope = _cursor_scope(rel)
            scope = rel.rpartition("/")[0] if scope is None else scope
            found.append(RuleFile(rel, scope, "", skipped=why))
    return sorted(found, key=lambda r: (r.scope.count("/") + bool(r.scope), r.scope, r.path))


def _cursor_rule(rel: str, scope: str, text: str) -> RuleFile:
    meta: dict[str, str] = {}
    match = _FRONT.match(text)
    if match:
        for line in match.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep:
                meta[key.strip()] = value.strip().strip("\"'")
        text = text[match.end() :]
    globs = tuple(g.strip().strip("\"'") for g in meta.get("globs", "").strip("[]").split(","))
    return RuleFile(
        rel,
        scope,
        text.strip(),
        always=meta.get("alwaysApply", "").lower() == "true",
        globs=tuple(g for g in globs if g),
        description=meta.get("description", ""),
    )


def _under(path: str, scope: str) -> str | None:
    if not scope:
        return path
    return path[len(scope) + 1 :] if path.startswith(scope + "/") else None


def applies(rule: RuleFile, state: State) -> bool:
    """Whether ``rule`` governs the work described by ``state`` (see module doc)."""
    inside = [p for p in (_under(w, rule.scope) for w in state.work_paths) if p is not None]
    if rule.scope and not inside:
        return False
    if rule.always:
        return True
    if rule.globs:
        spec = pathspec.GitIgnoreSpec.from_lines(rule.globs)
        return any(spec.match_file(p) for p in inside)
    if rule.description:
        words = {w.rstrip("s") for w in _WORD.findall(rule.description.lower())}
        return bool(words & {w.rstrip("s") for w in _WORD.findall(state.task.lower())})
    return f"@{rule.name}" in state.task


def _scope_text(rule: RuleFile) -> str:
    where = f"files under {rule.scope}/" if rule.scope else "the whole repository"
    if rule.globs:
        return f"{where}, matching {', '.join(rule.globs)}"
    return where


def _applies(rule: RuleFile) -> Condition:
    def condition(state: State) -> bool:
        return applies(rule, state)

    return condition


def _never(state: State) -> bool:
    return False


def _heading(path: str, scope: str) -> Callable[[str], str]:
    def wrap(body: str) -> str:
        return f"Project rules from {path} ({scope}):\n{body}"

    return wrap


def rule_layers(rules: list[RuleFile]) -> list[Layer]:
    """One system layer per rules file, in order; its condition is ``applies``."""
    layers = []
    for rule in rules:
        if rule.skipped:
            layers.append(
                Layer(
                    id=f"rules:{rule.path}",
                    content="",
                    condition=_never,
                    placement="system",
                    why=f"skipped: {rule.skipped}",
                )
            )
        if not rule.text:
            continue
        scope = _scope_text(rule)
        if rule.always or not (rule.globs or rule.description):
            why = f"rules for {scope}"
        elif rule.globs:
            why = f"cursor rule for {scope}"
        else:
            why = f"cursor rule used when the task is about: {rule.description}"
        layers.append(
            Layer(
                id=f"rules:{rule.path}",
                content=rule.text,
                priority=900,
                condition=_applies(rule),
                min_tokens=32,
                compressor=density,
                placement="system",
                why=why,
                wrap=_heading(rule.path, scope),
            )
        )
    return layers

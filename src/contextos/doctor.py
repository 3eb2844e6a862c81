"""``contextos doctor``: is the home usable, does every database pass a page-by-page check, and
the one repair that loses nothing: moving damaged derived data aside and re-creating it.

Checked: ``CONTEXTOS_HOME`` exists (or can be created) and takes a new file; each database under
it (memories, sessions, the embedding cache, every workspace index) opens read-only and passes
``PRAGMA quick_check`` (``store.db.integrity_problem``, which reads the whole file: this is the
slow, thorough check that commands skip on open).

``rebuild`` moves a damaged workspace index or embedding cache aside, never deleting it: the
database, its WAL and shared-memory files and its BM25 snapshots go into
``<name>.damaged-<UTC time>/`` next to it. The index of the workspace being doctored is then
re-indexed; another workspace's index is re-created empty (its root is not recorded anywhere
readable once the file is damaged), to be filled by ``contextos index`` there. The embedding
cache refills as texts are embedded. Memories and sessions are never rebuilt: they are derived
from nothing, so the finding says how to restore memories from an export instead.

Left out: repairing a file in place (``sqlite3 FILE .recover`` is the tool for that).
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contextos.home import (
    cache_dir,
    contextos_home,
    memory_db_path,
    sessions_db_path,
    workspace_db_path,
)
from contextos.store.db import SIDE_FILES, integrity_problem

if TYPE_CHECKING:
    from contextos.code.indexer import Progress

__all__ = ["Finding", "diagnose", "doctor", "repair"]

HOME, MEMORIES, SESSIONS, CACHE, WORKSPACE = (
    "home",
    "memories",
    "sessions",
    "embedding cache",
    "workspace index",
)
_REBUILT = frozenset({CACHE, WORKSPACE})


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing checked: ``problem`` None means fine; ``done`` is what ``rebuild`` did about the
    problem, ``todo`` what is left to the user."""

    what: str
    path: str
    problem: str | None = None
    done: str | None = None
    todo: str | None = None
    this_workspace: bool = False

    @property
    def ok(self) -> bool:
        return self.problem is None or (self.done is not None and self.todo is None)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def _check_home() -> Finding:
    home = contextos_home()
    try:
        home.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=home):
            pass
        for sub in ("workspaces", "cache", "models"):
            if (home / sub).exists() and not (home / sub).is_dir():
                raise NotADirectoryError(f"{home / sub} is not a directory")
    except OSError as exc:
        return Finding(
            HOME,
            str(home),
            f"CONTEXTOS_HOME is not usable: {exc.strerror or exc}",
            todo="point CONTEXTOS_HOME at a writable directory (or fix this one)",
        )
    return Finding(HOME, str(home))


def _todo(what: str, path: Path) -> str:
    if what in _REBUILT:
        return "run `contextos doctor --rebuild` (it moves the file aside, never deletes it)"
    if what == MEMORIES:
        return (
            "memories are derived from nothing, so they are not rebuilt: move the file aside "
            "and restore your last export with `contextos memory import DIR` "
            f"(`sqlite3 {path} .recover` may save the rest)"
        )
    return "sessions are not rebuilt: move the file aside to start with none"


def diagnose(root: Path | None = None) -> list[Finding]:
    """Check the home and every existing database; ``root``'s index is marked as this
    workspace's."""
    home = _check_home()
    if home.problem is not None:
        return [home]
    mine = workspace_db_path(root) if root is not None else None
    databases = [
        (MEMORIES, memory_db_path()),
        (SESSIONS, sessions_db_path()),
        (CACHE, cache_dir() / _cache_file()),
        *((WORKSPACE, p) for p in sorted(_workspaces_dir().glob("*.db"))),
    ]
    findings = [home]
    for what, path in databases:
        if not path.exists():
            continue
        problem = integrity_problem(path)
        findings.append(
            Finding(
                what,
                str(path),
                problem,
                todo=_todo(what, path) if problem else None,
                this_workspace=path == mine,
            )
        )
    return findings


def _workspaces_dir() -> Path:
    """Where every workspace index lives (``home`` builds the path of each)."""
    return workspace_db_path(Path("/")).parent


def _cache_file() -> str:
    from contextos.embed.cache import CACHE_FILE

    return CACHE_FILE


def _move_aside(path: Path) -> Path:
    """Move ``path``, its side files and snapshots into a new ``<name>.damaged-<time>/``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for n in range(100):
        aside = path.with_name(f"{path.name}.damaged-{stamp}" + (f"-{n}" if n else ""))
        try:
            aside.mkdir()
            break
        except FileExistsError:
            continue
    companions = [path.with_name(path.name + s) for s in SIDE_FILES if s != ".lock"]
    for item in [path, *companions, *path.parent.glob(f"{path.name}.*.bm25.npz*")]:
        if item.exists():
            item.rename(aside / item.name)
    return aside


def repair(findings: list[Finding], root: Path | None, progress: Progress | None) -> list[Finding]:
    """Move damaged workspace indexes and the embedding cache aside and re-create them."""
    from contextos.code.schema import MIGRATIONS
    from contextos.store.db import connect
    from contextos.workspace import Workspace

    fixed: list[Finding] = []
    for finding in findings:
        if finding.problem is None or finding.what not in _REBUILT:
            fixed.append(finding)
            continue
        path = Path(finding.path)
        aside = _move_aside(path)
        done, todo = f"moved aside to {aside}", None
        if finding.this_workspace and root is not None:
            with Workspace(root) as ws:
                ws.index(progress=progress)
            done += f"; re-indexed {root}"
        elif finding.what == WORKSPACE:
            connect(path, MIGRATIONS).close()
            done += "; re-created empty"
            todo = "run `contextos index` in its workspace to fill it"
        else:
            done += "; it refills as texts are embedded"
        fixed.append(replace(finding, done=done, todo=todo))
    return fixed


def doctor(
    root: Path | None = None, *, rebuild: bool = False, progress: Progress | None = None
) -> list[Finding]:
    """``diagnose``, then ``repair`` if asked; ``root`` is the workspace being doctored."""
    if root is not None:
        from contextos.paths import workspace_root

        root = workspace_root(root)
    findings = diagnose(root)
    return repair(findings, root, progress) if rebuild else findings

"""Localization instances: the arguments every benchmark over them takes, loading, locking.

``benchmarks.localize`` and ``benchmarks.pack`` read the same instances file and share one work
directory (``trees/<id>``, ``ws/<id>.db``, ``locks/<id>.lock``), so a pack run reuses the trees
and indexes a localization run kept. Left out: anything about how an instance is scored.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import glob
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "add_instance_args",
    "check_instance_args",
    "instance_lock",
    "load_instances",
    "load_search_config",
    "remove_db",
]


def add_instance_args(p: argparse.ArgumentParser, systems: Sequence[str]) -> None:
    """The arguments every benchmark over localization instances takes."""
    p.add_argument("--instances", type=Path, required=True, help="instances JSONL file")
    p.add_argument("--mirrors", type=Path, required=True, help="dir of owner+name/repo mirrors")
    p.add_argument("--out", type=Path, required=True, help="result JSON path")
    p.add_argument("--limit", type=int, default=None, help="first N instances only")
    p.add_argument("--systems", default=",".join(systems), help="comma-separated systems")
    p.add_argument("--repos", default=None, help="comma-separated owner/name filter")
    p.add_argument("--work", type=Path, default=Path(".bench/localize"), help="work directory")
    p.add_argument("--search-config", default=None, help="SearchConfig as JSON text or file")
    p.add_argument("--save-every", type=int, default=10, help="write partial results every N")


def check_instance_args(
    p: argparse.ArgumentParser, args: argparse.Namespace, systems: Sequence[str]
) -> argparse.Namespace:
    """``args`` with ``systems`` and ``repos`` split into lists (an unknown system is a usage
    error) and ``work`` made absolute."""
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = sorted(set(args.systems) - set(systems))
    if unknown:
        p.error(f"unknown systems {unknown}; choose from {', '.join(systems)}")
    args.repos = [r.strip() for r in args.repos.split(",")] if args.repos else None
    args.work = args.work.resolve()
    return args


def load_instances(path: Path, repos: list[str] | None, limit: int | None) -> list[dict[str, Any]]:
    """The instances of a JSONL file, only those of ``repos`` if given, the first ``limit``."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if repos:
        rows = [r for r in rows if r["repo"] in repos]
    return rows[:limit] if limit else rows


def load_search_config(raw: str | None) -> Any:
    """A ``SearchConfig`` from JSON text or a JSON file; None (the defaults) for no text."""
    if not raw:
        return None
    from contextos.code.search import SearchConfig

    text = Path(raw).read_text(encoding="utf-8") if Path(raw).is_file() else raw
    return SearchConfig(**json.loads(text))


def remove_db(db: Path) -> None:
    """Delete the workspace DB and its companions (-wal, -shm, .lock, BM25 snapshots, ...)."""
    for path in db.parent.glob(glob.escape(db.name) + "*"):
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def instance_lock(work: Path, iid: str) -> Iterator[None]:
    """Serialise runs that share a work directory on one instance (they wait, then reuse)."""
    path = work / "locks" / f"{iid}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield

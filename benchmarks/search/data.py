"""The search benchmark's data: queries, repositories, the fixed tune/report split, checkouts.

A repository's corpus is its ``benchmark_root`` subtree (the whole tree when null) at
``revision``, extracted once from the bare mirror ``MIRRORS/owner+name/repo`` into
``WORK/trees/<name>`` with ``benchmarks.common.trees.materialise`` and kept. Left out: scoring,
and any network access (the mirrors must be on disk).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from benchmarks.common.trees import materialise, mirror_path

__all__ = [
    "DEFAULT_MIRRORS",
    "Split",
    "checkout",
    "corpus_dir",
    "load_queries",
    "load_repos",
    "select_repos",
    "split_of",
]

DEFAULT_MIRRORS = Path("/work/.mirror")

Split = Literal["tune", "report", "all"]


def split_of(name: str) -> Literal["tune", "report"]:
    """The fixed half a repository belongs to: ``tune`` when SHA-1 of its name is even."""
    return "tune" if int(hashlib.sha1(name.encode()).hexdigest(), 16) % 2 == 0 else "report"


def load_repos(path: Path) -> list[dict[str, Any]]:
    """The repositories of ``repos-dev.json``: ``{name, language, github, revision,
    benchmark_root}``."""
    rows: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return rows


def load_queries(path: Path) -> list[dict[str, Any]]:
    """The queries of a JSONL file, in file order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def select_repos(
    repos: Sequence[dict[str, Any]], split: Split = "all", names: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The repositories of ``split`` (``all``: every one), only ``names`` if given, in order."""
    chosen = [r for r in repos if split == "all" or split_of(r["name"]) == split]
    if names:
        unknown = sorted(set(names) - {r["name"] for r in repos})
        if unknown:
            raise ValueError(f"unknown repositories {unknown}")
        chosen = [r for r in chosen if r["name"] in names]
    return chosen


def checkout(
    repo: dict[str, Any], work: Path, mirrors: Path = DEFAULT_MIRRORS
) -> tuple[Path, bool]:
    """The extracted tree of ``repo`` under ``work/trees`` and whether it was extracted now."""
    tree = work / "trees" / repo["name"]
    extraction = materialise(mirror_path(mirrors, repo["github"]), repo["revision"], tree)
    if extraction.missing:
        raise RuntimeError(f"{repo['name']}: {len(extraction.missing)} blobs missing from mirror")
    return tree, extraction.created


def corpus_dir(tree: Path, repo: dict[str, Any]) -> Path:
    """The directory indexed for ``repo``: its ``benchmark_root`` inside the extracted tree."""
    root = repo.get("benchmark_root")
    return tree / root if root else tree

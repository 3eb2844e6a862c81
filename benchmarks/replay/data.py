"""Trajectories of the replay benchmark: the manifest, the runs read from the mirror, the split.

A manifest row is ``{commit, path}``: a mini-swe-agent trajectory file in the history of
``SWE-agent/mini-swe-agent``. Only ``role``, ``content`` and ``tool_calls`` of each message are
kept. Left out: the ``info`` block (the submission is not scored here).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common.trees import mirror_path

__all__ = ["REPO", "Trajectory", "half_of", "load_manifest", "load_trajectory"]

REPO = "SWE-agent/mini-swe-agent"
_FIELDS = ("role", "content", "tool_calls")


@dataclass(frozen=True, slots=True)
class Trajectory:
    path: str
    messages: list[dict[str, Any]]

    @property
    def half(self) -> str:
        return half_of(self.path)


def half_of(path: str) -> str:
    """``tune`` or ``report``: the parity of the last hex digit of the path's SHA-1."""
    return "tune" if int(hashlib.sha1(path.encode()).hexdigest()[-1], 16) % 2 == 0 else "report"


def load_manifest(path: Path, limit: int | None = None) -> list[dict[str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return rows[:limit] if limit is not None else rows


def load_trajectory(mirrors: Path, row: dict[str, str]) -> Trajectory:
    """The run at ``row`` read from the bare mirror of mini-swe-agent under ``mirrors``."""
    git_dir = mirror_path(mirrors, REPO)
    proc = subprocess.run(
        ["git", "--git-dir", str(git_dir), "show", f"{row['commit']}:{row['path']}"],
        capture_output=True,
        check=True,
    )
    data = json.loads(proc.stdout)
    messages = [{k: m[k] for k in _FIELDS if m.get(k) is not None} for m in data["messages"]]
    return Trajectory(row["path"], messages)

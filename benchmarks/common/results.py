"""Result files of the benchmarks: written atomically, stamped with the machine and commit.

Left out: any result format beyond one JSON document per run.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["REPO_ROOT", "machine_info", "source_digest", "write_json_atomic"]

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The contextos checkout the benchmarks live in."""


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` (parents created) so a reader never sees a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
        fh.write("\n")
    os.replace(tmp, path)


def source_digest(paths: Iterable[Path]) -> str | None:
    """First 12 hex digits of the SHA-256 of the files' bytes in order; None for no files."""
    files = [p for p in paths if p.is_file()]
    if not files:
        return None
    return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()[:12]


def machine_info() -> dict[str, Any]:
    """Platform, Python, CPUs, memory, and the checkout's commit (and whether it was dirty)."""

    def git(*cmd: str) -> str | None:
        proc = subprocess.run(["git", "-C", str(REPO_ROOT), *cmd], capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else None

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 0
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_gb": round(mem / 2**30, 1),
        "contextos_commit": git("rev-parse", "HEAD"),
        "contextos_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }

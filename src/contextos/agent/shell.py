"""The agent's ``run`` and ``lint``: shell commands in the workspace root, bounded in time and size.

``run_command`` runs ``bash -c`` in a new process group with the environment less every variable
``contextos.secrets.is_secret_env`` calls secret, kills the whole group when the time is up (and
when the command ends, so background jobs never outlive their call), and returns the combined
stdout and stderr (collected in a temporary file) redacted (``contextos.secrets.redact``) and cut
to its head and tail.
``lint_command`` picks the linter for a language: ruff for Python (the installed module, else the
``ruff`` on PATH), or a ``{path}`` command configured per language; ``lint`` runs it.

Left out: sandboxing. A command runs as the user and can read any file the user can (a process
that leaves the group with ``setsid`` survives the call); its output is redacted only of the
secret shapes ``contextos.secrets`` knows, and the environment filter keeps keys out of the
process, not off the disk. Also left out: stdin (it is ``/dev/null``), ttys.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from contextos.secrets import is_secret_env, redact

__all__ = ["OUTPUT_CHARS", "Ran", "clip", "lint", "lint_command", "run_command", "safe_env"]

OUTPUT_CHARS = 8_000
"""Output of one command the model sees: head and tail, about half each."""
LINT_TIMEOUT_S = 120.0
_READ_BYTES = 4 << 20
"""Output up to this size is read whole; past it, only its head and tail are."""


@dataclass(frozen=True, slots=True)
class Ran:
    """A finished (or killed) command: its clipped output, exit code (``None`` when killed on
    timeout), whether the time ran out, and how long it took."""

    output: str
    exit_code: int | None
    timed_out: bool
    seconds: float


def safe_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``environ`` (default ``os.environ``) without the variables that look like secrets."""
    source = os.environ if environ is None else environ
    return {name: value for name, value in source.items() if not is_secret_env(name, value)}


def clip(text: str, limit: int = OUTPUT_CHARS) -> str:
    """``text`` if it fits in ``limit`` characters, else its head and tail with a note in the
    middle saying how many characters and lines were cut."""
    if len(text) <= limit:
        return text
    head, tail = text[: limit // 2], text[len(text) - limit // 2 :]
    cut = text[len(head) : len(text) - len(tail)]
    return head + _cut_note(len(cut), cut.count("\n"), "characters") + tail


def _cut_note(amount: int, lines: int, unit: str) -> str:
    return f"\n[... {amount} {unit} ({lines} lines) cut ...]\n"


def run_command(command: str, cwd: Path, timeout_s: float) -> Ran:
    """Run ``command`` with ``bash -c`` in ``cwd``; never raises for the command's failures.

    Output goes to a temporary file, not a pipe, so a background job that keeps it open
    cannot hold the call past the command's end."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            ["bash", "-c", command],
            cwd=cwd,
            env=safe_env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        timed_out = False
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill_group(proc.pid)
            proc.wait()
        text = _output(out)
    seconds = round(time.monotonic() - started, 3)
    return Ran(text, None if timed_out else proc.returncode, timed_out, seconds)


def _output(out: IO[bytes]) -> str:
    """The command's output, redacted and clipped; over ``_READ_BYTES`` only its ends are read."""
    size = out.seek(0, os.SEEK_END)
    out.seek(0)
    if size <= _READ_BYTES:
        return clip(redact(out.read().decode("utf-8", errors="replace")))
    half = OUTPUT_CHARS // 2
    head = out.read(half)
    lines = 0
    while out.tell() < size - half:
        lines += out.read(min(1 << 20, size - half - out.tell())).count(b"\n")
    tail = out.read()
    ends = [redact(part.decode("utf-8", errors="replace")) for part in (head, tail)]
    return ends[0] + _cut_note(size - 2 * half, lines, "bytes") + ends[1]


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def lint_command(language: str | None, configured: Mapping[str, str]) -> str | None:
    """The shell command (``{path}`` still in it) that lints a file of ``language``, or ``None``
    when no linter is configured or installed. A configured command wins; Python falls back to
    ruff: ``python -m ruff`` when the module is importable, else ``ruff`` on PATH."""
    if language is None:
        return None
    if language in configured:
        return configured[language]
    if language != "python":
        return None
    if importlib.util.find_spec("ruff") is not None:
        ruff = shlex.join([sys.executable, "-m", "ruff"])
    elif (found := shutil.which("ruff")) is not None:
        ruff = shlex.quote(found)
    else:
        return None
    return f"{ruff} check --no-cache --output-format concise {{path}}"


def lint(
    root: Path, rel: str, languages: Sequence[str | None], configured: Mapping[str, str]
) -> str:
    """The findings of each language's linter on ``rel`` (a confined posix path, ``.`` for the
    whole root), or a note that a language has no linter."""
    outputs = []
    for language in dict.fromkeys(languages):
        command = lint_command(language, configured)
        if command is None:
            outputs.append(
                f"lint: no linter is available for {language or 'these'} files "
                "(install ruff for Python, or configure lint_commands)"
            )
            continue
        ran = run_command(command.replace("{path}", shlex.quote(rel)), root, LINT_TIMEOUT_S)
        status = "timed out" if ran.timed_out else f"exit code {ran.exit_code}"
        outputs.append(f"lint {rel} ({language}, {status}):\n{ran.output.rstrip()}")
    return "\n\n".join(outputs)

"""The bench every case runs on: a temporary directory, a fresh ``CONTEXTOS_HOME`` per use, the
environment children get, secret canaries (and their masking in evidence), small file systems
for the full-disk cases, and a sweep that finds processes a case left behind.

A child's environment is this process's minus every ``CONTEXTOS_*`` variable and provider key,
plus its home, ``CONTEXTOS_OFFLINE=1``, ``HF_HUB_OFFLINE=1`` and ``CONTEXTOS_EMBEDDER=none`` (no
model builds) unless a case says otherwise. Left out: isolating children from the network.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import string
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.redteam.clients import McpSession, Recorder, run_cli
from benchmarks.redteam.verdict import Run

__all__ = ["Lab"]

_DROP = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "HF_TOKEN")


class Lab:
    """Shared state of one harness run; ``close()`` removes everything it made."""

    def __init__(self, seed: int = 10) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="contextos-redteam-"))
        self.rng = random.Random(seed)
        self.secrets: list[str] = []
        self.recorder = Recorder()
        self.user_server = Recorder(embeddings=True)
        """The user's own embeddings server (answers); ``recorder`` is the repository's."""
        self.mounts: list[Path] = []
        self._shared: dict[str, Any] = {}
        self._cleanups: list[Callable[[], object]] = []
        self._count = 0
        self.sessions: list[McpSession] = []
        """Every MCP server started, so the harness can read their stderr after each case."""
        self.kept_homes: list[Path] = []
        """Homes of shared workspaces whose servers live across cases (not swept)."""

    # --- places ---------------------------------------------------------------------------------

    def path(self, name: str) -> Path:
        """A new, empty directory under the run's root (``name`` plus a counter)."""
        self._count += 1
        path = self.root / f"{self._count:03d}-{name}"
        path.mkdir(parents=True)
        return path

    def env(self, home: Path, **extra: str | None) -> dict[str, str]:
        """The environment of a child using ``home``; ``extra`` None values remove a variable."""
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("CONTEXTOS_") and k not in _DROP
        }
        env.update(
            CONTEXTOS_HOME=str(home),
            CONTEXTOS_OFFLINE="1",
            HF_HUB_OFFLINE="1",
            CONTEXTOS_EMBEDDER="none",
        )
        for key, value in extra.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def cli(
        self,
        args: list[str],
        home: Path,
        *,
        timeout: float = 60,
        cwd: Path | None = None,
        stdin: bytes | None = None,
        preexec: Any = None,
        **extra: str | None,
    ) -> Run:
        return run_cli(
            args, self.env(home, **extra), cwd=cwd, timeout=timeout, stdin=stdin, preexec=preexec
        )

    def mcp(self, root: Path, home: Path, **extra: str | None) -> McpSession:
        session = McpSession(root, self.env(home, **extra), self.path("mcp-log") / "stderr.txt")
        self._cleanups.append(session.close)
        self.sessions.append(session)
        return session

    def shared(self, key: str, build: Callable[[], Any]) -> Any:
        """``build()``'s result, built once per run (workspaces several cases attack)."""
        if key not in self._shared:
            self._shared[key] = build()
        return self._shared[key]

    # --- secrets --------------------------------------------------------------------------------

    def secret(self, prefix: str = "", length: int = 32, alphabet: str = "") -> str:
        """A fresh random secret ``prefix + length`` characters, remembered for leak checks."""
        chars = alphabet or string.ascii_letters + string.digits
        value = prefix + "".join(self.rng.choice(chars) for _ in range(length))
        self.secrets.append(value)
        return value

    def mask(self, text: str) -> str:
        """``text`` with every canary replaced by ``<secret>`` (evidence goes into the docs)."""
        for value in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(value, "<secret>")
        return text

    # --- file systems ---------------------------------------------------------------------------

    def small_fs(self, size_kib: int, read_only: bool = False) -> Path | None:
        """A tmpfs of ``size_kib`` mounted under the root, or None when mounting is not allowed."""
        where = self.path("fs")
        opts = f"size={size_kib}k" + (",ro" if read_only else "")
        proc = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)],
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            return None
        self.mounts.append(where)
        return where

    # --- processes ------------------------------------------------------------------------------

    def strays(self, home: Path | None = None) -> list[tuple[int, str]]:
        """Live processes (pid, command line) using ``home``, or any home under this run."""
        marker = f"CONTEXTOS_HOME={home}\0" if home else f"CONTEXTOS_HOME={self.root}/"
        marker_b = marker.encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            with contextlib.suppress(OSError):
                environ = (entry / "environ").read_bytes()
                if marker_b not in environ:
                    continue
                if home is None and any(
                    f"CONTEXTOS_HOME={kept}\0".encode() in environ for kept in self.kept_homes
                ):
                    continue
                if (entry / "stat").read_text().split(") ")[-1].startswith("Z"):
                    continue
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append((int(entry.name), cmd.strip()[:160]))
        return found

    def kill_strays(self, home: Path | None = None) -> list[tuple[int, str]]:
        """Kill (by pid) every process ``strays(home)`` finds; what was killed."""
        found = self.strays(home)
        for pid, _ in found:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return found

    # --- teardown -------------------------------------------------------------------------------

    def close(self) -> None:
        for cleanup in reversed(self._cleanups):
            with contextlib.suppress(Exception):
                cleanup()
        self.kill_strays()
        self.recorder.close()
        self.user_server.close()
        for where in reversed(self.mounts):
            subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

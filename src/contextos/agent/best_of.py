"""Best-of-N: run N agents on one task side by side, each in its own git worktree; keep the best.

``best_of(root, make_llm, task, n)`` checks the repository out N times (``git worktree add
--detach`` at HEAD, under a temporary directory, with the main tree's uncommitted and untracked
files copied in), runs one full ``Agent`` per worktree concurrently on threads, scores the
candidates and applies the winner's diff to the main tree with ``git apply``. Every candidate
has its own ``Workspace`` (and index database, in the temporary directory) and its own model
client from ``make_llm``: a workspace is not thread-safe, and the agent's other state (toolbox,
session connection, stuck detector) is per run. The worktrees are removed afterwards, also when
a candidate raises.

Scoring, best first: the ``test`` command passes; fewer failing tests (pytest's ``N failed``
summary, else 1 for a non-zero exit); the run finished; fewer lines changed. Ties go to the
lower candidate number. Left out: candidates that run ``--until-done`` rounds, voting by a
model, and keeping the losers' diffs anywhere but their run directories.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from contextos.agent.loop import Agent
from contextos.agent.runs import new_run_id, run_files
from contextos.agent.shell import run_command
from contextos.embed.protocol import Embedder
from contextos.errors import ContextosError, UserInputError
from contextos.llm.protocol import ToolLLM
from contextos.settings import Settings
from contextos.workspace import Workspace

__all__ = ["BestOfResult", "Candidate", "DiffStat", "best_of", "diff_stat", "failing_tests"]

_PYTEST_COUNTS = re.compile(r"(\d+) (failed|errors?)\b")


@dataclass(frozen=True, slots=True)
class DiffStat:
    """Files touched and lines added and removed by a unified diff."""

    files: int = 0
    added: int = 0
    removed: int = 0

    @property
    def lines(self) -> int:
        return self.added + self.removed


@dataclass(slots=True)
class Candidate:
    """One candidate's run and score; ``score`` sorts ascending, best first."""

    index: int
    run_id: str
    status: str
    reason: str
    steps: int = 0
    tokens: int = 0
    test_passed: bool | None = None
    failed: int | None = None
    diff: DiffStat = field(default_factory=DiffStat)
    score: tuple[int, int, int, int] = (1, 0, 1, 0)
    patch_file: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "score": list(self.score)}


@dataclass(slots=True)
class BestOfResult:
    """The candidates (in candidate order), the winner's index and whether its diff applied."""

    task: str
    candidates: list[Candidate]
    winner: int | None
    applied: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "winner": self.winner,
            "applied": self.applied,
            "candidates": [c.to_dict() for c in self.candidates],
        }


def best_of(
    workspace_root: Path | str,
    make_llm: Callable[[], ToolLLM],
    task: str,
    n: int,
    *,
    test: str | None = None,
    settings: Settings | None = None,
    embedder: Embedder | Literal["auto"] | None = "auto",
    **agent_kwargs: Any,
) -> BestOfResult:
    """Run ``n`` agents on ``task`` concurrently in worktrees of the repository at
    ``workspace_root``; apply the best candidate's diff there. ``make_llm`` is called once per
    candidate, on the candidate's thread. ``agent_kwargs`` go to every ``Agent``."""
    if n < 1:
        raise UserInputError(f"best-of needs at least 1 candidate, got {n}")
    root = Path(workspace_root).resolve()
    top, prefix = _repository(root)
    with _worktrees(top, n) as trees:

        def one(i: int) -> tuple[Candidate, bytes]:
            return _candidate(
                i, trees[i], prefix, make_llm, task, test, settings, embedder, agent_kwargs
            )

        with ThreadPoolExecutor(max_workers=n) as pool:
            ran = list(pool.map(one, range(n)))
    candidates = [c for c, _ in ran]
    winner = min(candidates, key=lambda c: (c.score, c.index))
    patch = ran[winner.index][1]
    if patch:
        _apply(top, patch, winner.patch_file)
    return BestOfResult(task, candidates, winner.index, bool(patch))


def _candidate(
    i: int,
    tree: Path,
    prefix: str,
    make_llm: Callable[[], ToolLLM],
    task: str,
    test: str | None,
    settings: Settings | None,
    embedder: Embedder | Literal["auto"] | None,
    agent_kwargs: dict[str, Any],
) -> tuple[Candidate, bytes]:
    """Run candidate ``i`` in worktree ``tree``; its scored record and its patch (from the
    worktree's top, new files included)."""
    run_id = new_run_id()
    base = _text(tree, "write-tree")
    db = tree.parent / f"{tree.name}.db"
    try:
        llm = make_llm()
        with Workspace(tree / prefix, settings, db_path=db, embedder=embedder) as ws:
            ws.index(model="no")
            result = Agent(ws, llm, test=test, **agent_kwargs).run(task, run_id=run_id)
        cand = Candidate(i, run_id, result.status, result.reason, result.steps, result.tokens)
        tested: tuple[bool, str] | None = (
            (bool(result.test_passed), result.test_output) if test else None
        )
    except ContextosError as exc:
        cand = Candidate(i, run_id, "error", str(exc))
        tested = None
    _git(tree, "add", "-A")
    patch = _git(tree, "diff", "--cached", "--binary", base)
    files = run_files(run_id, create=True)
    (files.dir / "candidate.patch").write_bytes(patch)
    cand.patch_file = str(files.dir / "candidate.patch")
    cand.diff = diff_stat(patch.decode("utf-8", "replace"))
    if test:
        if tested is None:  # the run ended in an error before the agent could test
            ran = run_command(test, tree / prefix, timeout_s=600)
            tested = (ran.exit_code == 0 and not ran.timed_out, ran.output)
        cand.test_passed = tested[0]
        cand.failed = 0 if cand.test_passed else failing_tests(tested[1])
    cand.score = (
        0 if cand.test_passed in (True, None) else 1,
        cand.failed or 0,
        0 if cand.status == "finished" else 1,
        cand.diff.lines,
    )
    return cand, patch


def failing_tests(output: str) -> int:
    """Failing tests in a failed test run: pytest's last ``N failed, M errors`` summary, or 1."""
    for line in reversed(output.splitlines()):
        counts = _PYTEST_COUNTS.findall(line)
        if counts:
            return max(1, sum(int(k) for k, _ in counts))
    return 1


def diff_stat(patch: str) -> DiffStat:
    """Count the files and the added and removed lines of a ``git diff`` patch."""
    files = added = removed = 0
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            files += 1
        elif line.startswith("+") and not line.startswith("+++ "):
            added += 1
        elif line.startswith("-") and not line.startswith("--- "):
            removed += 1
    return DiffStat(files, added, removed)


def _repository(root: Path) -> tuple[Path, str]:
    """The top of the git repository holding ``root`` and ``root``'s path inside it."""
    try:
        top = Path(_text(root, "rev-parse", "--show-toplevel"))
        prefix = _text(root, "rev-parse", "--show-prefix")
        _git(root, "rev-parse", "--verify", "HEAD")
    except UserInputError as exc:
        raise UserInputError(
            f"best-of-N needs a git repository with a commit: {root} is not one ({exc}); "
            "run `git init` and commit, or run without --best-of"
        ) from exc
    return top, prefix


@contextmanager
def _worktrees(top: Path, n: int) -> Iterator[list[Path]]:
    """``n`` detached worktrees at HEAD holding the main tree's uncommitted changes and untracked
    files, each staged (so ``write-tree`` is the candidate's starting point); removed on exit."""
    scratch = Path(tempfile.mkdtemp(prefix="contextos-best-of-"))
    trees: list[Path] = []
    changes = _git(top, "diff", "HEAD", "--binary")
    listed = _git(top, "ls-files", "--others", "--exclude-standard", "-z").split(b"\0")
    untracked = [os.fsdecode(p) for p in listed if p]
    try:
        for i in range(n):
            tree = scratch / f"candidate-{i}"
            _git(top, "worktree", "add", "--detach", str(tree), "HEAD")
            trees.append(tree)
            if changes:
                _git(tree, "apply", "--binary", input=changes)
            for rel in untracked:
                (tree / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(top / rel, tree / rel)
            _git(tree, "add", "-A")
        yield trees
    finally:
        for tree in trees:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)],
                cwd=top,
                capture_output=True,
                check=False,
            )
        shutil.rmtree(scratch, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=top, capture_output=True, check=False)


def _apply(top: Path, patch: bytes, saved: str) -> None:
    try:
        _git(top, "apply", "--binary", input=patch)
    except UserInputError as exc:
        raise UserInputError(
            f"the winning diff does not apply to {top} ({exc}): the tree changed during the run;"
            f" the diff is kept in {saved}"
        ) from exc


def _git(cwd: Path, *args: str, input: bytes | None = None) -> bytes:
    """``git <args>`` in ``cwd``; its output as bytes (patches need not be UTF-8), or
    ``UserInputError`` with git's message."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, input=input, capture_output=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UserInputError(f"git {args[0]} failed: {exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
        raise UserInputError(f"git {args[0]}: {message}")
    return done.stdout


def _text(cwd: Path, *args: str) -> str:
    return os.fsdecode(_git(cwd, *args)).strip()

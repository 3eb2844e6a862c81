"""Repository trees for benchmarks: extract a commit from a bare mirror, tell test files apart.

A tree is materialised with ``git archive <sha> | tar -x`` into a temporary sibling directory
that is renamed into place only when extraction finished, so an interrupted run never leaves a
half-written tree that a later ``--keep-workspaces`` run would mistake for a complete one.
Mirrors fetched under a size cap lack some large blobs, which makes ``git archive`` fail; then the
tree is written blob by blob (``ls-tree`` + ``cat-file --batch``) and the missing paths are
reported instead. Nothing here knows about contextos; submodules and LFS are left out on purpose.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path, PurePosixPath
from typing import NamedTuple

__all__ = [
    "TEXT_EXTENSIONS",
    "Extraction",
    "is_test_path",
    "materialise",
    "mirror_path",
    "walk_text_files",
]

# fmt: off
TEXT_EXTENSIONS = frozenset((
    ".py", ".pyi", ".pyx", ".pxd", ".md", ".rst", ".txt", ".cfg", ".toml", ".ini", ".yaml", ".yml",
    ".json", ".js", ".jsx", ".ts", ".tsx", ".mjs", ".c", ".h", ".cc", ".cpp", ".hpp", ".cxx",
    ".go", ".rs", ".java", ".kt", ".rb", ".php", ".sh", ".bash", ".html", ".css", ".scss", ".sql",
    ".xml", ".jinja", ".j2", ".tex",
))
# fmt: on

_TEST_DIRS = frozenset({"test", "tests", "testing"})


def is_test_path(path: str) -> bool:
    """True if a repository-relative path is a test file.

    A path is a test file if any directory component is ``test``/``tests``/``testing`` or the file
    is named ``test_*.py``, ``*_test.py`` or ``conftest.py``.
    """
    parts = PurePosixPath(path).parts
    if any(part in _TEST_DIRS for part in parts[:-1]):
        return True
    name = parts[-1] if parts else ""
    return (
        name == "conftest.py"
        or (name.startswith("test_") and name.endswith(".py"))
        or name.endswith("_test.py")
    )


def mirror_path(mirrors: Path, repo: str) -> Path:
    """The bare git directory of ``owner/name`` under ``mirrors`` (``owner+name/repo``)."""
    return mirrors / repo.replace("/", "+") / "repo"


class Extraction(NamedTuple):
    """Outcome of ``materialise``: whether the tree was written now, and paths left out."""

    created: bool
    missing: list[str]


def materialise(git_dir: Path, sha: str, dest: Path) -> Extraction:
    """Extract commit ``sha`` of ``git_dir`` to ``dest`` unless ``dest`` already exists.

    Blobs absent from the mirror are skipped and listed in ``missing``. Raises ``RuntimeError``
    with git's message if the commit cannot be read at all.
    """
    if dest.is_dir():
        return Extraction(created=False, missing=[])
    part = dest.with_name(dest.name + ".part")
    shutil.rmtree(part, ignore_errors=True)
    part.mkdir(parents=True)
    missing: list[str] = []
    if not _archive(git_dir, sha, part):
        shutil.rmtree(part)
        part.mkdir()
        try:
            missing = _write_blobs(git_dir, sha, part)
        except BaseException:
            shutil.rmtree(part, ignore_errors=True)
            raise
    part.rename(dest)
    return Extraction(created=True, missing=missing)


def _archive(git_dir: Path, sha: str, into: Path) -> bool:
    with subprocess.Popen(
        ["git", f"--git-dir={git_dir}", "archive", "--format=tar", sha],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as archive:
        assert archive.stdout is not None
        tar = subprocess.run(
            ["tar", "-x", "-C", str(into)], stdin=archive.stdout, capture_output=True, check=False
        )
        archive.stdout.close()
        return archive.wait() == 0 and tar.returncode == 0


def _write_blobs(git_dir: Path, sha: str, into: Path) -> list[str]:
    git = ["git", f"--git-dir={git_dir}"]
    listing = subprocess.run([*git, "ls-tree", "-r", "-z", "--full-tree", sha], capture_output=True)
    if listing.returncode != 0:
        message = listing.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"cannot extract {sha} from {git_dir}: {message}")
    blobs: list[tuple[str, str, str]] = []
    for record in listing.stdout.split(b"\0"):
        if record:
            meta, raw_path = record.split(b"\t", 1)
            mode, kind, oid = meta.decode().split()
            if kind == "blob":
                blobs.append((mode, oid, os.fsdecode(raw_path)))
    missing: list[str] = []
    with tempfile.TemporaryFile() as requests:
        requests.write("".join(oid + "\n" for _, oid, _ in blobs).encode())
        requests.seek(0)
        with subprocess.Popen(
            [*git, "cat-file", "--batch"], stdin=requests, stdout=subprocess.PIPE
        ) as cat:
            assert cat.stdout is not None
            for mode, _, path in blobs:
                header = cat.stdout.readline().split()
                if header[1] == b"missing":
                    missing.append(path)
                    continue
                data = cat.stdout.read(int(header[2]))
                cat.stdout.read(1)
                _write_entry(into / path, mode, data)
    return missing


def _write_entry(target: Path, mode: str, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if mode == "120000":
        os.symlink(os.fsdecode(data), target)
        return
    target.write_bytes(data)
    if mode == "100755":
        target.chmod(0o755)


def walk_text_files(root: Path, max_bytes: int = 1024 * 1024) -> list[str]:
    """Relative posix paths of files under ``root`` with a text extension, at most ``max_bytes``.

    Hidden directories are skipped. Used when no contextos workspace supplies its indexed paths.
    """
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            full = Path(dirpath) / name
            if full.suffix.lower() not in TEXT_EXTENSIONS or full.is_symlink():
                continue
            if full.stat().st_size <= max_bytes:
                out.append(full.relative_to(root).as_posix())
    return out

"""``confine``: the one check for paths from a model or a user, through every entry point."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from contextos.errors import PathOutsideRootError, UserInputError
from contextos.mcp_server.files import read_range
from contextos.paths import confine
from contextos.workspace import Workspace

REFUSED: list[tuple[str, type[UserInputError], str]] = [
    ("", UserInputError, "empty path: give a file path relative to the workspace root"),
    ("  ", UserInputError, "empty path: give a file path relative to the workspace root"),
    ("a\x00.py", UserInputError, "path contains a NUL byte"),
    ("../x", PathOutsideRootError, "path '../x' climbs out of the workspace root {root} with '..'"),
    (
        "sub/../../x",
        PathOutsideRootError,
        "path 'sub/../../x' climbs out of the workspace root {root} with '..'",
    ),
    (
        "/etc/passwd",
        PathOutsideRootError,
        "absolute path '/etc/passwd' is outside the workspace root {root}",
    ),
    (
        "escape.txt",
        PathOutsideRootError,
        "path 'escape.txt' is a symlink (or passes through one) that leads outside {root}",
    ),
    (
        "out_dir/secret.txt",
        PathOutsideRootError,
        "path 'out_dir/secret.txt' is a symlink (or passes through one) that leads outside {root}",
    ),
    ("loop/x", UserInputError, "cannot resolve path 'loop/x'"),
]
ACCEPTED: list[tuple[str, str]] = [
    ("a.py", "a.py"),
    ("./a.py", "a.py"),
    ("sub/../a.py", "a.py"),
    ("sub/b.py", "sub/b.py"),
    ("inside_link.py", "a.py"),
    ("sub/not_yet.py", "sub/not_yet.py"),
    ("{root}/sub/b.py", "sub/b.py"),
]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "a.py").write_text("a = 1\n")
    (root / "sub" / "b.py").write_text("b = 2\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("top secret\n")
    (root / "escape.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    (root / "out_dir").symlink_to(tmp_path / "outside")
    (root / "inside_link.py").symlink_to(root / "a.py")
    os.symlink(root / "loop", root / "loop")
    return root


@pytest.fixture
def workspace(root: Path) -> Iterator[Workspace]:
    with Workspace(root, embedder=None) as workspace:
        yield workspace


def entry_points(root: Path, workspace: Workspace) -> list[Callable[[str], object]]:
    """Every place that takes a path from a model or a user."""
    return [
        lambda path: confine(root, path),
        workspace.resolve_path,
        lambda path: read_range(root, path),
    ]


@pytest.mark.parametrize(("path", "error", "message"), REFUSED)
def test_paths_that_leave_the_root_are_refused_the_same_way_everywhere(
    root: Path, workspace: Workspace, path: str, error: type[UserInputError], message: str
) -> None:
    expected = message.format(root=root)
    for entry_point in entry_points(root, workspace):
        with pytest.raises(error) as refused:
            entry_point(path)
        assert str(refused.value).startswith(expected)


@pytest.mark.parametrize(("path", "inside"), ACCEPTED)
def test_paths_inside_the_root_resolve_to_their_target(
    root: Path, workspace: Workspace, path: str, inside: str
) -> None:
    path = path.format(root=root)
    assert confine(root, path) == root / inside
    assert workspace.resolve_path(path) == root / inside


def test_a_root_given_through_a_symlink_is_resolved_first(root: Path, tmp_path: Path) -> None:
    (tmp_path / "alias").symlink_to(root)
    assert confine(tmp_path / "alias", "sub/b.py") == root / "sub" / "b.py"
    with pytest.raises(PathOutsideRootError, match="climbs out"):
        confine(tmp_path / "alias", "../outside/secret.txt")

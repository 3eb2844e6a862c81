"""``read_file`` limits, without a server: ranges, the size cap and where to continue."""

from __future__ import annotations

from pathlib import Path

import pytest

from contextos.errors import PathOutsideRootError, UserInputError
from contextos.mcp_server.files import MAX_CHARS, MAX_LINES, read_range
from contextos.mcp_server.models import FileText


def test_a_long_file_is_capped_and_says_where_to_continue(tmp_path: Path) -> None:
    (tmp_path / "long.txt").write_text("".join(f"line {i}\n" for i in range(1, 5001)))
    first = read_range(tmp_path, "long.txt")
    assert (first.start_line, first.end_line, first.total_lines) == (1, MAX_LINES, 5000)
    assert first.truncated and first.next_start_line == MAX_LINES + 1
    rest = read_range(tmp_path, "long.txt", start_line=4990)
    assert rest == FileText(
        path="long.txt",
        start_line=4990,
        end_line=5000,
        total_lines=5000,
        truncated=False,
        next_start_line=None,
        text="".join(f"line {i}\n" for i in range(4990, 5001)),
    )


def test_wide_lines_are_capped_by_characters(tmp_path: Path) -> None:
    (tmp_path / "wide.txt").write_text(("x" * 999 + "\n") * 300)
    got = read_range(tmp_path, "wide.txt", 1, 300)
    assert len(got.text) <= MAX_CHARS and got.end_line == MAX_CHARS // 1000
    assert got.truncated and got.next_start_line == got.end_line + 1


def test_an_empty_file_reads_as_no_lines(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("")
    got = read_range(tmp_path, "empty.py")
    assert (got.text, got.end_line, got.total_lines, got.truncated) == ("", 0, 0, False)


def test_private_keys_and_bad_ranges_are_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text(
        "ok\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n"
    )
    with pytest.raises(UserInputError, match="private key"):
        read_range(tmp_path, "notes.txt")
    with pytest.raises(UserInputError, match="end_line \\(1\\) is before start_line \\(2\\)"):
        read_range(tmp_path, "notes.txt", 2, 1)
    with pytest.raises(PathOutsideRootError, match="climbs out"):
        read_range(tmp_path, "a/../../x")

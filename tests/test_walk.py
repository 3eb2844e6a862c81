"""The one walker's options: ``under`` a sub-path, ``wanted`` paths, and ``text_files`` for grep."""

from __future__ import annotations

from contextos.walk import TextFile, text_files, walk
from tests.conftest import RepoMaker

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA\n-----END OPENSSH PRIVATE KEY-----\n"
FILES: dict[str, str | bytes] = {
    ".gitignore": "*.log\n",
    "docs/guide.md": "# Guide\n",
    "src/a.py": "a = 1\n",
    "src/run.log": "ignored by the root .gitignore\n",
    "src/logo.png": b"\x89PNG\x00",
    "src/blob.txt": b"text\x00with a NUL",
    "src/key.txt": KEY,
    "src/.env": "TOKEN=abc\n",
    "src/app.min.js": "var a=1;\n",
    "src/gen.py": "# @generated\nx = 1\n",
    "src/sub/c.py": "c = 3\n",
    "srcs/other.py": "o = 1\n",
}


def test_text_files_under_a_sub_path_is_what_grep_searches(make_repo: RepoMaker) -> None:
    root = make_repo(FILES).resolve()
    got = list(text_files(root, "src", max_file_bytes=1 << 20))
    assert got == [
        TextFile("src/a.py", "a = 1\n"),
        TextFile("src/gen.py", "# @generated\nx = 1\n"),
        TextFile("src/sub/c.py", "c = 3\n"),
    ]
    assert [f.rel for f in text_files(root, "src/", max_file_bytes=1 << 20)] == [f.rel for f in got]
    assert [f.rel for f in text_files(root, "src/sub/c.py", max_file_bytes=1 << 20)] == [
        "src/sub/c.py"
    ]
    everything = [f.rel for f in text_files(root, max_file_bytes=1 << 20)]
    assert everything == [".gitignore", "docs/guide.md", *(f.rel for f in got), "srcs/other.py"]


def test_under_and_wanted_narrow_a_walk_without_counting_what_they_leave_out(
    make_repo: RepoMaker,
) -> None:
    root = make_repo(FILES).resolve()
    whole = walk(root, max_file_bytes=1 << 20)
    assert dict(whole.skipped) == {"ignored": 1, "binary": 1, "secret": 1, "generated": 1}
    sub = walk(root, max_file_bytes=1 << 20, under="src/sub")
    assert ([f.rel for f in sub.files], dict(sub.skipped)) == (["src/sub/c.py"], {})
    docs = walk(root, max_file_bytes=1 << 20, wanted=lambda rel: rel.endswith(".md"))
    assert ([f.rel for f in docs.files], dict(docs.skipped)) == (["docs/guide.md"], {})


def test_a_walk_under_an_ignored_directory_sees_nothing(make_repo: RepoMaker) -> None:
    root = make_repo({**FILES, ".contextosignore": "src/sub/\n"}).resolve()
    assert list(text_files(root, "src/sub", max_file_bytes=1 << 20)) == []

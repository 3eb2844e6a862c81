"""Indexing: what gets indexed, what is skipped and why, incremental runs, crash safety."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from contextos import PathOutsideRootError, UserInputError, Workspace
from tests.conftest import HashingEmbedder, RepoMaker, git, write_files

PY_MAIN = '''"""Main module."""
import os


class Greeter:
    """Says hello."""

    def greet(self, name):
        return f"hello {name}"


def parse_config(path):
    with open(path) as fh:
        return fh.read()
'''

GO_MAIN = """package main

import "fmt"

func ComputeTotal(items []int) int {
\ttotal := 0
\tfor _, i := range items {
\t\ttotal += i
\t}
\treturn total
}

func main() {
\tfmt.Println(ComputeTotal([]int{1, 2}))
}
"""

TS_UTIL = """export function formatDate(d: Date): string {
  return d.toISOString();
}

export class Cache {
  get(key: string): string | undefined {
    return undefined;
  }
}
"""


def lexical_ws(root: Path) -> Workspace:
    return Workspace(root, embedder=None)


def test_index_records_chunks_with_symbols_for_several_languages(make_repo: RepoMaker) -> None:
    repo = make_repo({"app/main.py": PY_MAIN, "cmd/main.go": GO_MAIN, "web/util.ts": TS_UTIL})
    with lexical_ws(repo) as ws:
        summary = ws.index()
        assert summary.files_added == 3
        symbols = {
            (r["path"], r["symbol"], r["kind"])
            for r in ws.conn.execute(
                "SELECT path, symbol, kind FROM chunks WHERE symbol IS NOT NULL"
            )
        }
    assert ("app/main.py", "Greeter.greet", "method") in symbols
    assert ("app/main.py", "parse_config", "function") in symbols
    assert ("cmd/main.go", "ComputeTotal", "function") in symbols
    assert ("web/util.ts", "formatDate", "function") in symbols


def test_reindex_touches_only_added_modified_deleted_and_renamed(make_repo: RepoMaker) -> None:
    repo = make_repo({f"pkg/m{i}.py": f"def f{i}():\n    return {i}\n" for i in range(20)})
    embedder = HashingEmbedder()
    with Workspace(repo, embedder=embedder) as ws:
        first = ws.index()
        assert (first.files_added, first.files_unchanged) == (20, 0)
        (repo / "pkg/m0.py").write_text("def f0():\n    return 'changed'\n")
        (repo / "pkg/new.py").write_text("def brand_new():\n    pass\n")
        (repo / "pkg/m1.py").unlink()
        (repo / "pkg/m2.py").rename(repo / "pkg/renamed.py")
        calls_before = embedder.calls
        second = ws.index()
        assert (second.files_added, second.files_changed, second.files_deleted) == (2, 1, 2)
        assert second.files_unchanged == 17
        assert second.chunks_written == 3
        assert embedder.calls - calls_before == 1
        paths = ws.indexed_paths()
        assert "pkg/m1.py" not in paths and "pkg/m2.py" not in paths
        assert "pkg/renamed.py" in paths and "pkg/new.py" in paths
        text = ws.conn.execute("SELECT text FROM chunks WHERE path='pkg/m0.py'").fetchone()[0]
        assert "changed" in text
        third = ws.index()
        assert (third.files_added, third.files_changed, third.files_deleted) == (0, 0, 0)
        assert third.chunks_written == 0
        assert ws.verify() == []


def test_touch_without_content_change_does_not_rechunk(make_repo: RepoMaker) -> None:
    repo = make_repo({"a.py": "def a():\n    pass\n"})
    with lexical_ws(repo) as ws:
        ws.index()
        os.utime(repo / "a.py", (time.time() + 10, time.time() + 10))
        again = ws.index()
    assert (again.files_changed, again.chunks_written, again.files_unchanged) == (0, 0, 1)


def test_gitignore_and_contextosignore_are_respected(make_repo: RepoMaker) -> None:
    repo = make_repo(
        {
            ".gitignore": "build/\n*.log\n",
            "sub/.gitignore": "local_*.py\n",
            ".contextosignore": "docs/private.md\n",
            "src/keep.py": "x = 1\n",
            "build/out.py": "y = 2\n",
            "run.log": "log line\n",
            "sub/local_conf.py": "z = 3\n",
            "sub/shared.py": "w = 4\n",
            "docs/private.md": "# private\n",
            "docs/public.md": "# public\n",
        }
    )
    with lexical_ws(repo) as ws:
        summary = ws.index()
        paths = ws.indexed_paths()
    assert paths == [
        ".contextosignore",
        ".gitignore",
        "docs/public.md",
        "src/keep.py",
        "sub/.gitignore",
        "sub/shared.py",
    ]
    assert summary.skipped["ignored"] == 3
    assert summary.skipped["ignored_dir"] >= 1


def test_binary_huge_secret_and_generated_files_are_skipped_with_reasons(
    make_repo: RepoMaker,
) -> None:
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n"
    repo = make_repo(
        {
            "ok.py": "print('ok')\n",
            "image.dat": b"\x89PNG\x00\x01\x02",
            "blob.py": b"abc\x00def" * 10,
            "big.py": "x = 1\n" * 300_000,
            ".env": "API_KEY=sk-123\n",
            ".env.local": "TOKEN=abc\n",
            "deploy/id_rsa": key,
            "server.pem": key,
            "config/settings.py": "SECRET = 1\n" + key,
            "static/app.min.js": "var a=1;" * 10,
            "api_pb2.py": "# generated\n",
        }
    )
    with lexical_ws(repo) as ws:
        summary = ws.index()
        assert ws.indexed_paths() == ["ok.py"]
        stored = " ".join(r[0] for r in ws.conn.execute("SELECT text FROM chunks"))
    assert "PRIVATE KEY" not in stored and "sk-123" not in stored
    assert summary.skipped == {
        "binary": 2,
        "generated": 2,
        "secret": 5,
        "too_large": 1,
    }


def test_file_gaining_a_private_key_is_removed_from_the_index(make_repo: RepoMaker) -> None:
    repo = make_repo({"conf.py": "A = 1\n"})
    with lexical_ws(repo) as ws:
        ws.index()
        (repo / "conf.py").write_text("A = 1\n-----BEGIN PRIVATE KEY-----\nxyz\n")
        summary = ws.index()
        assert ws.indexed_paths() == []
    assert summary.skipped.get("secret") == 1


def test_invalid_utf8_is_indexed_with_replacement(make_repo: RepoMaker) -> None:
    repo = make_repo(
        {"latin.py": "name = 'caf\xe9'\n".encode("latin-1") + b"def cafe_menu():\n    pass\n"}
    )
    with lexical_ws(repo) as ws:
        ws.index()
        hits = ws.search("cafe_menu")
    assert hits[0].path == "latin.py"


def test_symlink_loops_and_links_out_of_root_are_skipped(
    make_repo: RepoMaker, tmp_path: Path
) -> None:
    repo = make_repo({"a/b.py": "x = 1\n"})
    os.symlink(repo / "a", repo / "a" / "loop")
    outside = tmp_path / "outside.py"
    outside.write_text("secret_outside = 1\n")
    os.symlink(outside, repo / "out.py")
    os.symlink(repo / "a" / "b.py", repo / "inside_link.py")
    with lexical_ws(repo) as ws:
        summary = ws.index()
        assert ws.indexed_paths() == ["a/b.py", "inside_link.py"]
    assert summary.skipped["symlink_dir"] == 1
    assert summary.skipped["symlink_outside_root"] == 1


def test_paths_outside_the_root_are_refused(make_repo: RepoMaker) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    os.symlink("/etc", repo / "etc_link")
    with lexical_ws(repo) as ws:
        assert ws.resolve_path("a.py") == repo.resolve() / "a.py"
        for bad, why in [
            ("../x", "climbs out of the workspace root"),
            ("/etc/passwd", "is outside the workspace root"),
            ("etc_link/passwd", "symlink"),
            ("a/../../x", "climbs out of the workspace root"),
        ]:
            with pytest.raises(PathOutsideRootError, match=why):
                ws.resolve_path(bad)


def test_missing_workspace_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="does not exist"):
        Workspace(tmp_path / "nope")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(UserInputError, match="not a directory"):
        Workspace(tmp_path / "file.txt")


def _many_files_repo(make_repo: RepoMaker, n: int) -> Path:
    body = "\n".join(f"def func_{{i}}_{j}(x):\n    return x * {j}\n" for j in range(12))
    return make_repo({f"pkg{i // 100}/mod_{i}.py": body.replace("{i}", str(i)) for i in range(n)})


def test_search_while_an_index_runs(make_repo: RepoMaker, isolated_home: Path) -> None:
    repo = _many_files_repo(make_repo, 1500)
    env = {**os.environ, "CONTEXTOS_EMBEDDER": "none"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "contextos", "index", str(repo), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        seen_partial = False
        with lexical_ws(repo) as ws:
            while proc.poll() is None:
                n = len(ws.indexed_paths())
                hits = ws.search("func_3_7", k=3)
                if 0 < n < 1500:
                    seen_partial = True
                    assert all(h.path.endswith(".py") for h in hits)
                time.sleep(0.02)
            _, err = proc.communicate()
            assert proc.returncode == 0, err
            assert seen_partial
            assert ws.search("func_3_7", k=1)[0].path == "pkg0/mod_3.py"
    finally:
        proc.kill()
        proc.communicate()


def test_kill_9_mid_index_then_rerun_is_consistent_and_complete(
    make_repo: RepoMaker, isolated_home: Path
) -> None:
    repo = _many_files_repo(make_repo, 1500)
    env = {**os.environ, "CONTEXTOS_EMBEDDER": "none"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "contextos", "index", str(repo), "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with lexical_ws(repo) as ws:
        while proc.poll() is None and len(ws.indexed_paths()) < 200:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        partial = len(ws.indexed_paths())
        assert 0 < partial < 1500, "the kill must land mid-index"
        assert ws.verify() == []
        summary = ws.index()
        assert summary.files_added == 1500 - partial
        assert len(ws.indexed_paths()) == 1500
        assert ws.verify() == []
    conn = sqlite3.connect(ws.db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_deleted_and_restored_file_after_git_checkout(make_repo: RepoMaker) -> None:
    repo = make_repo({"a.py": "def alpha():\n    pass\n", "b.py": "def beta():\n    pass\n"})
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "b.py").unlink()
    write_files(repo, {"c.py": "def gamma():\n    pass\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "other")
    with lexical_ws(repo) as ws:
        ws.index()
        assert ws.indexed_paths() == ["a.py", "c.py"]
        git(repo, "checkout", "-q", "main")
        summary = ws.index()
        assert ws.indexed_paths() == ["a.py", "b.py"]
        assert (summary.files_added, summary.files_deleted) == (1, 1)

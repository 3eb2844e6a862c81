"""Every failure a user can cause or meet ends in one line on stderr, exit 1 or 2, never a
traceback: a full disk, a damaged database, an unusable CONTEXTOS_HOME, a directory where a
file should be, bad export targets, absurd input. Real file systems where we can: a small tmpfs
for a full disk and a read-only one (root only; skipped otherwise), and RLIMIT_FSIZE (anyone)."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from contextos.errors import StoreError, UserInputError
from contextos.mcp_server.files import read_range
from contextos.store.db import connect, integrity_problem, transaction
from tests.conftest import RepoMaker

SCRIPT = Path(sys.executable).parent / "contextos"


def run(
    *args: str, home: Path | None = None, preexec_fn: Callable[[], None] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTEXTOS_MODEL")}
    env["CONTEXTOS_EMBEDDER"] = "none"
    if home is not None:
        env["CONTEXTOS_HOME"] = str(home)
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=300,
        preexec_fn=preexec_fn,
    )


def one_line(result: subprocess.CompletedProcess[str], says: str, codes: tuple[int, ...]) -> str:
    """The single ``error:`` line of a failed command, checked."""
    assert "Traceback" not in result.stderr, result.stderr
    (line,) = result.stderr.splitlines()
    assert result.returncode in codes, (result.returncode, line)
    assert line.startswith("error: ") and says in line, line
    return line


@pytest.fixture
def repo(make_repo: RepoMaker) -> Path:
    """A repository big enough that its index takes a few hundred KiB."""
    files = {
        f"pkg/mod{i}.py": "".join(
            f"def handler_{i}_{j}(request, payload):\n"
            f"    '''Handle request {j} of module {i} with its payload.'''\n"
            f"    return payload * {j} + len(request)\n\n"
            for j in range(30)
        )
        for i in range(60)
    }
    return make_repo(files)


@contextmanager
def tmpfs(where: Path, options: str) -> Iterator[Path]:
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


# --- full disk -------------------------------------------------------------------------------


def test_a_failed_commit_reports_the_full_disk_not_a_failed_rollback(tmp_path: Path) -> None:
    def m001(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE t (x TEXT)")

    conn = connect(tmp_path / "small.db", [m001])
    conn.execute("PRAGMA max_page_count = 20")  # SQLite's own "disk": full after 20 pages
    with pytest.raises(StoreError) as caught, transaction(conn):
        for _ in range(1000):
            conn.execute("INSERT INTO t VALUES (?)", ("x" * 1000,))
    assert "is full (database or disk is full): free some space" in str(caught.value)
    assert "cannot rollback" not in str(caught.value)
    assert not conn.in_transaction
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0


def test_index_and_remember_on_a_full_disk_say_so_in_one_line(tmp_path: Path, repo: Path) -> None:
    with tmpfs(tmp_path / "small", "size=256k") as disk:
        home = disk / "home"
        indexed = run("index", str(repo), home=home)
        one_line(indexed, "is full (database or disk is full): free some space", (1,))
        remembered = run("remember", "The user prefers tabs.", home=home)
        one_line(remembered, "is full", (1,))


def test_a_file_size_limit_ends_index_in_one_line(tmp_path: Path, repo: Path) -> None:
    def limit() -> None:  # writes past the limit fail with EFBIG instead of killing the process
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    result = run("index", str(repo), home=tmp_path / "home", preexec_fn=limit)
    line = one_line(result, "", (1,))
    assert "disk I/O error" in line or "is full" in line, line


# --- damaged databases -----------------------------------------------------------------------


def damage(db: Path) -> None:
    """Overwrite part of every third page after the first: openable, wrong inside."""
    data = bytearray(db.read_bytes())
    page = 4096
    for start in range(page, len(data), 3 * page):
        data[start + 100 : start + 900] = b"\x55" * 800
    db.write_bytes(bytes(data))


def test_a_damaged_index_says_run_doctor_and_doctor_rebuild_moves_it_aside(
    tmp_path: Path, repo: Path
) -> None:
    home = tmp_path / "home"
    assert run("index", str(repo), home=home).returncode == 0
    (db,) = (home / "workspaces").glob("*.db")
    damage(db)
    searched = run("search", "handler payload", "-p", str(repo), home=home)
    one_line(searched, "is damaged", (1,))
    assert "run `contextos doctor --rebuild`" in searched.stderr
    checked = run("doctor", str(repo), home=home)
    one_line(checked, "1 problem(s) left (workspace index)", (1,))
    assert f"PROBLEM  workspace index (this workspace): {db}: damaged" in checked.stdout

    rebuilt = run("doctor", str(repo), "--rebuild", "--json", home=home)
    assert (rebuilt.returncode, rebuilt.stderr) == (0, "")
    finding = next(f for f in json.loads(rebuilt.stdout) if f["what"] == "workspace index")
    assert finding["ok"] and finding["done"].endswith(f"; re-indexed {repo}")
    (aside,) = (home / "workspaces").glob("*.damaged-*")
    assert (aside / db.name).exists()  # never deleted
    found = run("search", "handler payload", "-p", str(repo), "--json", home=home)
    assert found.returncode == 0 and json.loads(found.stdout)
    assert run("doctor", home=home).returncode == 0


def test_a_file_that_is_not_a_database_is_one_line(tmp_path: Path, repo: Path) -> None:
    home = tmp_path / "home"
    assert run("index", str(repo), home=home).returncode == 0
    (db,) = (home / "workspaces").glob("*.db")
    db.write_bytes(b"not sqlite at all " * 500)
    line = one_line(run("index", str(repo), home=home), "is damaged", (1,))
    assert "file is not a database" in line and "contextos doctor --rebuild" in line


def test_doctor_never_rebuilds_memories_and_says_how_to_restore(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run("remember", "The user prefers tabs.", home=home).returncode == 0
    damage_all = home / "memory.db"
    damage_all.write_bytes(damage_all.read_bytes()[:4096] + b"\x55" * 8192)
    result = run("doctor", "--rebuild", home=home)
    one_line(result, "problem(s) left (memories)", (1,))
    assert "restore your last export with `contextos memory import DIR`" in result.stdout
    assert not list(home.glob("memory.db.damaged-*"))


def test_integrity_problem_is_none_for_a_sound_database(tmp_path: Path) -> None:
    connect(tmp_path / "ok.db", []).close()
    assert integrity_problem(tmp_path / "ok.db") is None


# --- the home and the files in it ------------------------------------------------------------


def test_a_read_only_home_is_one_line(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "size=1m,ro") as home:
        one_line(run("remember", "tabs", home=home), "cannot open", (1,))
        doctor = run("doctor", home=home)
        one_line(doctor, "problem(s) left (home)", (1,))
        assert "CONTEXTOS_HOME is not usable: Read-only file system" in doctor.stdout


def test_doctor_reports_a_home_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    doctor = run("doctor", home=tmp_path / "file" / "home")
    one_line(doctor, "problem(s) left (home)", (1,))
    assert "CONTEXTOS_HOME is not usable: Not a directory" in doctor.stdout


def test_a_home_under_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    one_line(run("remember", "tabs", home=tmp_path / "file" / "home"), "CONTEXTOS_HOME", (1, 2))


def test_a_directory_where_the_lock_file_should_be_is_one_line(tmp_path: Path, repo: Path) -> None:
    home = tmp_path / "home"
    assert run("index", str(repo), home=home).returncode == 0
    (db,) = (home / "workspaces").glob("*.db")
    lock = db.with_name(db.name + ".lock")
    lock.unlink()
    lock.mkdir()
    line = one_line(run("index", str(repo), home=home), "is a directory where", (1,))
    assert line == (
        f"error: {lock} is a directory where its lock file should be: move it away and run the "
        "command again"
    )


def test_memory_export_onto_a_file_is_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run("remember", "The user prefers tabs.", home=home).returncode == 0
    (tmp_path / "taken").write_text("x")
    one_line(run("memory", "export", str(tmp_path / "taken"), home=home), "it is a file", (2,))
    under = run("memory", "export", str(tmp_path / "taken" / "out"), home=home)
    one_line(under, "a part of that path is a file", (2,))
    (tmp_path / "out" / "general.md").mkdir(parents=True)
    blocked = run("memory", "export", str(tmp_path / "out"), home=home)
    one_line(blocked, "a directory is in the way", (2,))


# --- absurd input ----------------------------------------------------------------------------


def test_a_deeply_nested_transcript_is_one_line(tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    transcript.write_text('{"role": "user", "content": "hi"}\n' + "[" * 100_000 + "\n")
    result = run("memory", "extract", "--transcript", str(transcript), home=tmp_path / "home")
    one_line(result, f"{transcript}:2: JSON nested too deeply", (2,))


@pytest.mark.parametrize(
    ("as_of", "says"),
    [
        ("9999-12-31T23:59:59-05:00", "date-time out of range"),
        ("0001-01-01T00:00:00+05:00", "date-time out of range"),
        ("+99999-01-01", "not an ISO-8601 date-time"),
        ("9" * 5000, "not an ISO-8601 date-time"),
    ],
    ids=["after-9999", "before-1", "five-digit-year", "huge"],
)
def test_absurd_as_of_dates_are_one_line(as_of: str, says: str, tmp_path: Path) -> None:
    line = one_line(run("recall", "tabs", "--as-of", as_of, home=tmp_path / "h"), says, (2,))
    assert len(line) < 200


def test_a_too_long_path_in_read_file_is_a_short_refusal(tmp_path: Path) -> None:
    for path in ("a" * 300, "a/" * 3000):
        with pytest.raises(UserInputError) as caught:
            read_range(tmp_path, path)
        message = str(caught.value)
        assert "File name too long" in message and len(message) < 200, message


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["search"], "missing argument 'query'"),
        (["recall", "tabs", "-k", "many"], "invalid value for '--k'"),
        (["doctor", "--rebuild=yes"], "option '--rebuild' does not take a value"),
        (["memory", "import"], "missing argument 'directory'"),
    ],
)
def test_argument_errors_are_one_line_not_a_usage_box(
    args: list[str], says: str, tmp_path: Path
) -> None:
    result = run(*args, home=tmp_path / "home")
    line = one_line(result, says, (2,))
    assert "Usage:" not in result.stderr and "╭" not in result.stderr, line

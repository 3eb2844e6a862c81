"""The agent's toolbox on real files, a real index and real subprocesses."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from contextos import MemoryStore, Workspace
from contextos.agent.tools import READ_LINES, Observation, Toolbox

from .conftest import write_files

PY = "import os\n\n\ndef greet(name):\n    return 'hello ' + name\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    write_files(
        repo,
        {
            "app/greet.py": PY,
            "app/big.txt": "".join(f"line {i}\n" for i in range(1, 1001)),
            "notes.md": "The parser lives in app/greet.py.\n",
            ".env": "OPENAI_API_KEY=sk-abcdefghijklmnopqrstuvwxyz123456\n",
        },
    )
    return repo


@pytest.fixture
def workspace(root: Path) -> Iterator[Workspace]:
    ws = Workspace(root, embedder=None)
    ws.index(embed=False, model="no")
    yield ws
    ws.close()


@pytest.fixture
def tools(workspace: Workspace, tmp_path: Path) -> Toolbox:
    return Toolbox(workspace, run_dir=tmp_path / "run")


def call(tools: Toolbox, name: str, **arguments: object) -> Observation:
    return tools.call(name, json.dumps(arguments))


def test_specs_list_exactly_the_nine_tools_with_json_schemas(tools: Toolbox) -> None:
    specs = tools.specs()
    assert [s["name"] for s in specs] == [
        "read_file", "edit_file", "search", "grep", "run", "lint", "todo", "remember", "finish",
    ]  # fmt: skip
    assert all(set(s) == {"name", "description", "parameters"} for s in specs)
    edit = next(s for s in specs if s["name"] == "edit_file")
    assert edit["parameters"]["required"] == ["path", "old", "new"]
    assert [n for n in ("read_file", "search", "grep", "lint", "edit_file", "run") if
            tools.read_only(n)] == ["read_file", "search", "grep", "lint"]  # fmt: skip


def test_unknown_tool_and_bad_arguments_are_error_observations(tools: Toolbox) -> None:
    unknown = tools.call("delete_everything", "{}")
    assert unknown.error and "read_file, edit_file, search" in unknown.text
    malformed = tools.call("read_file", '{"path": "app/greet.py"')
    assert malformed.error and "not valid JSON" in malformed.text and "line 1" in malformed.text
    missing = tools.call("edit_file", '{"path": "app/greet.py", "old": "x"}')
    assert missing.error and "'new'" in missing.text
    wrong = tools.call("read_file", '{"path": "app/greet.py", "start_line": "3"}')
    assert wrong.error and "'start_line' must be integer" in wrong.text
    null = tools.call("read_file", '{"path": "notes.md", "start_line": 1, "end_line": null}')
    assert null == Observation(
        "     1\tThe parser lives in app/greet.py.",
        False,
        {"path": "notes.md", "start_line": 1, "end_line": 1, "total_lines": 1},
    )


def test_read_file_numbers_lines_in_a_window_and_says_how_to_read_more(tools: Toolbox) -> None:
    seen = call(tools, "read_file", path="app/big.txt")
    assert not seen.error
    lines = seen.text.splitlines()
    assert lines[0] == "     1\tline 1" and lines[READ_LINES - 1] == f"   {READ_LINES}\tline 400"
    assert lines[-1] == "[lines 1-400 of 1000; call read_file with start_line=401 to read more]"
    tail = call(tools, "read_file", path="app/big.txt", start_line=999)
    assert tail.text == "   999\tline 999\n  1000\tline 1000"


def test_paths_that_leave_the_root_are_refused(tools: Toolbox, root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("private\n")
    (root / "link.txt").symlink_to(outside)
    for path in ("../outside.txt", str(outside), "link.txt"):
        for name, args in (("read_file", {}), ("edit_file", {"old": "private", "new": "x"})):
            seen = call(tools, name, path=path, **args)
            assert seen.error and "outside" in seen.text, (name, path, seen.text)
    assert outside.read_text() == "private\n"
    assert call(tools, "grep", pattern="x", path="../").error


def test_secret_files_are_neither_read_nor_edited_nor_created(tools: Toolbox, root: Path) -> None:
    assert call(tools, "read_file", path=".env").error
    assert call(tools, "edit_file", path=".env", old="OPENAI", new="X").error
    assert call(tools, "edit_file", path="deploy/prod.env", old="", new="A=1\n").error
    assert root.joinpath(".env").read_text().startswith("OPENAI_API_KEY=sk-")
    assert not root.joinpath("deploy").exists()


def test_edit_with_no_match_shows_the_closest_line(tools: Toolbox, root: Path) -> None:
    seen = call(tools, "edit_file", path="app/greet.py", old="    return 'helo ' + name", new="")
    assert seen.error
    assert "not found" in seen.text and "closest line is 5" in seen.text
    assert "     5\t    return 'hello ' + name" in seen.text
    assert root.joinpath("app/greet.py").read_text() == PY


def test_edit_with_two_matches_names_both_lines(tools: Toolbox, root: Path) -> None:
    root.joinpath("twice.py").write_text("x = 1\ny = 2\nx = 1\n")
    seen = call(tools, "edit_file", path="twice.py", old="x = 1", new="x = 3")
    assert seen.error and "matches 2 times" in seen.text and "at lines 1, 3" in seen.text
    assert root.joinpath("twice.py").read_text() == "x = 1\ny = 2\nx = 1\n"


def test_edit_keeps_crlf_line_endings(tools: Toolbox, root: Path) -> None:
    root.joinpath("win.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    seen = call(tools, "edit_file", path="win.txt", old="one\ntwo\n", new="one\n2\n")
    assert not seen.error, seen.text
    assert root.joinpath("win.txt").read_bytes() == b"one\r\n2\r\nthree\r\n"


def test_edit_keeps_latin1_and_the_utf8_bom(tools: Toolbox, root: Path) -> None:
    root.joinpath("latin.txt").write_bytes("café = 1\n".encode("latin-1"))
    assert not call(tools, "edit_file", path="latin.txt", old="1", new="2 # déjà").error
    assert root.joinpath("latin.txt").read_bytes() == "café = 2 # déjà\n".encode("latin-1")
    root.joinpath("bom.txt").write_bytes(b"\xef\xbb\xbfname = 1\n")
    assert not call(tools, "edit_file", path="bom.txt", old="name = 1", new="name = 2").error
    assert root.joinpath("bom.txt").read_bytes() == b"\xef\xbb\xbfname = 2\n"


def test_binary_files_are_not_edited(tools: Toolbox, root: Path) -> None:
    root.joinpath("blob.dat").write_bytes(b"abc\x00def\n")
    seen = call(tools, "edit_file", path="blob.dat", old="abc", new="xyz")
    assert seen.error and "binary" in seen.text
    assert root.joinpath("blob.dat").read_bytes() == b"abc\x00def\n"


def test_empty_old_creates_a_missing_file_with_its_parents(tools: Toolbox, root: Path) -> None:
    seen = call(tools, "edit_file", path="docs/new/readme.txt", old="", new="hi\nthere\n")
    assert not seen.error and seen.data == {"path": "docs/new/readme.txt", "created": True}
    assert root.joinpath("docs/new/readme.txt").read_text() == "hi\nthere\n"
    again = call(tools, "edit_file", path="docs/new/readme.txt", old="", new="other\n")
    assert again.error and "quote the text to replace" in again.text


def test_edit_of_a_python_file_shows_the_ruff_finding(tools: Toolbox, root: Path) -> None:
    seen = call(tools, "edit_file", path="app/greet.py", old="'hello '", new="'hi '")
    assert not seen.error
    assert "app/greet.py:1:8: F401 [*] `os` imported but unused" in seen.text
    clean = call(tools, "edit_file", path="app/greet.py", old="import os\n", new="")
    assert "All checks passed!" in clean.text and "F401" not in clean.text
    assert not root.joinpath(".ruff_cache").exists()


def test_lint_without_a_path_lints_the_workspace(tools: Toolbox) -> None:
    seen = call(tools, "lint")
    assert not seen.error and "F401" in seen.text and "app/greet.py" in seen.text
    plain = call(tools, "lint", path="notes.md")
    assert plain.text.startswith("lint: no linter is available for markdown files")


def test_lint_commands_are_configurable_per_language(workspace: Workspace, tmp_path: Path) -> None:
    tools = Toolbox(workspace, run_dir=tmp_path / "run", lint_commands={"markdown": "wc -l {path}"})
    seen = call(tools, "lint", path="notes.md")
    assert seen.text == "lint notes.md (markdown, exit code 0):\n1 notes.md"


def test_search_shows_locations_symbols_and_lines(tools: Toolbox) -> None:
    seen = call(tools, "search", query="greet name hello", k=3)
    assert not seen.error
    assert seen.text.startswith("app/greet.py:")
    assert "greet" in seen.text.splitlines()[0]
    assert "return 'hello ' + name" in seen.text


def test_grep_finds_lines_and_refuses_an_invalid_regex(tools: Toolbox) -> None:
    seen = call(tools, "grep", pattern=r"hello \S+")
    assert seen.text == "app/greet.py:5:     return 'hello ' + name"
    assert "sk-" not in call(tools, "grep", pattern="OPENAI").text
    many = call(tools, "grep", pattern="^line", path="app")
    assert len(many.text.splitlines()) == 101 and many.data == {"matches": 100, "complete": False}
    bad = call(tools, "grep", pattern="(unclosed")
    assert bad.error and "invalid regular expression" in bad.text


def test_run_shows_output_and_exit_code(tools: Toolbox, root: Path) -> None:
    seen = call(tools, "run", command="pwd; echo oops >&2; exit 3")
    assert seen.text == f"{root}\noops\n[exit code 3]"
    assert seen.data["exit_code"] == 3 and not seen.error


def test_run_kills_the_process_group_on_timeout(tools: Toolbox, root: Path) -> None:
    started = time.monotonic()
    seen = call(tools, "run", command="sleep 5 & echo $! > sleep.pid; wait", timeout_s=1)
    assert time.monotonic() - started < 3
    assert seen.error
    assert seen.text.endswith("[timed out after 1 s: the command and its children were killed]")
    pid = int(root.joinpath("sleep.pid").read_text())
    assert _gone(pid)


def test_run_ends_background_jobs_with_the_command(tools: Toolbox, root: Path) -> None:
    started = time.monotonic()
    seen = call(tools, "run", command="sleep 30 & echo $! > bg.pid; echo started")
    assert time.monotonic() - started < 3
    assert seen.text == "started\n[exit code 0]"
    assert _gone(int(root.joinpath("bg.pid").read_text()))


def _gone(pid: int) -> bool:
    """True once ``pid`` no longer runs (absent, or a zombie waiting for its reaper)."""
    for _ in range(50):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.02)
    return False


def test_run_output_is_cut_to_head_and_tail(tools: Toolbox) -> None:
    script = "for i in range(10000): print('%9d' % i)"  # 100,000 characters in 10,000 lines
    seen = call(tools, "run", command=f'python3 -c "{script}"')
    head = "".join(f"{i:9d}\n" for i in range(400))
    tail = "".join(f"{i:9d}\n" for i in range(9600, 10000))
    cut = "[... 92000 characters (9200 lines) cut ...]"
    assert seen.text == f"{head}\n{cut}\n{tail.rstrip()}\n[exit code 0]"


def test_run_does_not_see_secret_environment_variables(
    tools: Toolbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPLOY_TOKEN", "abc123")
    monkeypatch.setenv("DEPLOY_REGION", "eu-west-1")
    seen = call(tools, "run", command='echo "[$DEPLOY_TOKEN] [$DEPLOY_REGION]"')
    assert seen.text == "[] [eu-west-1]\n[exit code 0]"


def test_todo_list_persists_across_toolboxes(workspace: Workspace, tmp_path: Path) -> None:
    first = Toolbox(workspace, run_dir=tmp_path / "run")
    items = [{"text": "read the parser", "done": True}, {"text": "fix it", "done": False}]
    assert call(first, "todo", items=items).text == "[x] read the parser\n[ ] fix it"
    assert Toolbox(workspace, run_dir=tmp_path / "run").todo_items() == items
    assert call(first, "todo", items=[{"text": "x"}]).error


def test_remember_needs_memory_and_refuses_secrets(workspace: Workspace, tmp_path: Path) -> None:
    off = Toolbox(workspace, run_dir=tmp_path / "run")
    assert call(off, "remember", text="tests run with make test").error
    with MemoryStore.open(tmp_path / "memory.db") as store:
        on = Toolbox(workspace, run_dir=tmp_path / "run", memory=store)
        stored = call(on, "remember", text="tests run with make test")
        assert not stored.error and [m.text for m in store.memories()] == [
            "tests run with make test"
        ]
        secret = call(on, "remember", text="the key is sk-abcdefghijklmnopqrstuvwxyz123456")
        assert secret.error and "secret" in secret.text


def test_finish_reports_the_summary_for_the_loop(tools: Toolbox) -> None:
    seen = call(tools, "finish", summary="fixed greet")
    assert seen == Observation("fixed greet", False, {"finished": True, "summary": "fixed greet"})


def test_read_only_calls_run_concurrently_from_threads(tools: Toolbox) -> None:
    calls = [
        ("search", {"query": "greet"}),
        ("read_file", {"path": "app/big.txt", "start_line": 500}),
        ("grep", {"pattern": "hello"}),
        ("lint", {"path": "app/greet.py"}),
    ]
    results: list[Observation] = []
    failures: list[BaseException] = []

    def worker(name: str, args: dict[str, object]) -> None:
        try:
            for _ in range(3):
                results.append(tools.call(name, json.dumps(args)))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=c) for c in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(results) == 12 and not any(r.error for r in results)

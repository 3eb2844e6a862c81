"""Area 6, bad inputs (second half): 1,100 nested directories, deeply nested JSON (a transcript,
a JSON-RPC line), absurd ``--as-of`` values, paths over PATH_MAX, and CLI argument errors, which
must be one line with no usage box."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from benchmarks.redteam.cases.faults import small_repo
from benchmarks.redteam.clients import Died, Hung
from benchmarks.redteam.lab import Lab
from benchmarks.redteam.verdict import Case, Run, Verdict, judge_cli, judge_tool, worst

AREA = "6 faults and inputs"


def _nested_dirs(lab: Lab) -> Verdict:
    repo, home = small_repo(lab), lab.path("home")
    deep = str(repo)
    for _ in range(1100):
        deep += "/d"
        os.mkdir(deep)
    Path(deep, "leaf.py").write_text("def deepest_leaf():\n    return 0\n")
    try:
        runs = [
            lab.cli(["index", str(repo)], home, timeout=60),
            lab.cli(["search", "reconcile_ledger_entries", "-p", str(repo)], home),
        ]
    finally:
        subprocess.run(["rm", "-rf", str(repo / "d")], check=False)
    return worst(judge_cli(r, "either") for r in runs)


def _nested_transcript(lab: Lab) -> Verdict:
    home = lab.path("home")
    path = lab.path("t") / "t.jsonl"
    deep = "[" * 200_000 + "]" * 200_000
    path.write_text('{"role": "user", "content": ' + deep + "}\n")
    ran = lab.cli(
        ["memory", "extract", "--transcript", str(path)],
        home,
        timeout=60,
        CONTEXTOS_MODEL="openai:gpt-4.1-mini",
        CONTEXTOS_MODEL_BASE_URL=lab.recorder.url,
        OPENAI_API_KEY="sk-test-not-real",
    )
    lab.recorder.take()
    return judge_cli(ran, "error")


def _nested_rpc(lab: Lab) -> Verdict:
    repo = small_repo(lab)
    with lab.mcp(repo, lab.path("home")) as session:
        try:
            session.start()
            deep = "[" * 200_000 + "]" * 200_000
            assert session.proc.stdin is not None
            session.proc.stdin.write(
                (
                    '{"jsonrpc": "2.0", "id": 999, "method": "tools/call", "params": {"name": '
                    '"search_code", "arguments": {"query": ' + deep + "}}}\n"
                ).encode()
            )
            session.proc.stdin.flush()
            reply = session.call("index_status", {}, timeout=20)
        except (Hung, Died, OSError) as exc:
            tb = "Traceback" in session.stderr()
            return Verdict(
                "traceback" if tb else "hang" if isinstance(exc, Hung) else "wrong",
                f"after a 200,000-deep JSON-RPC line: {str(exc)[-200:]}",
            )
        tb = "Traceback" in session.stderr()
    if tb:
        return Verdict("traceback", "server stderr has a traceback: " + session.stderr()[-200:])
    return judge_tool("index_status after a 200,000-deep line", reply, "success")


def _as_of(value: str) -> Callable[[Lab], Verdict]:
    def run(lab: Lab) -> Verdict:
        home = lab.path("home")
        return judge_cli(lab.cli(["recall", "deploy", "--as-of", value], home), "either")

    return run


def _long_paths_mcp(lab: Lab) -> Verdict:
    repo = small_repo(lab)
    paths = ["a" * 5000, "a/" * 3000 + "x.py", "x\0y.py", "../" * 50 + "etc/passwd"]
    with lab.mcp(repo, lab.path("home")) as session:
        try:
            session.start()
            replies = [(p, session.call("read_file", {"path": p})) for p in paths]
        except (Hung, Died) as exc:
            return Verdict("hang" if isinstance(exc, Hung) else "wrong", str(exc)[:240])
    return worst(judge_tool(f"read_file({p[:12]!r}…)", r, "error") for p, r in replies)


def _long_paths_cli(lab: Lab) -> Verdict:
    home, long = lab.path("home"), str(lab.root / ("a" * 5000))
    runs = [
        lab.cli(["index", long], home),
        lab.cli(["search", "q", "-p", long], home),
        lab.cli(["context", "task", "-p", str(lab.root / ("b/" * 3000))], home),
    ]
    return worst(judge_cli(r, "error") for r in runs)


def _args(argv: list[str]) -> Callable[[Lab], Verdict]:
    def run(lab: Lab) -> Verdict:
        ran: Run = lab.cli(argv, lab.path("home"))
        return judge_cli(ran, "error")

    return run


_ARGS = {
    "missing-query": ["search"],
    "unknown-option": ["index", "--bogus"],
    "k-zero": ["search", "q", "--k", "0"],
    "k-not-a-number": ["recall", "q", "--k", "abc"],
    "unknown-command": ["frobnicate"],
    "missing-import-dir": ["memory", "import"],
    "nonexistent-path": ["index", "/nonexistent/contextos/path"],
    "empty-query": ["search", ""],
    "bad-scope": ["remember", "x y z", "--scope", "galaxy"],
    "unknown-memory-id": ["memory", "show", "ffffffffffff"],
    "budget-zero": ["context", "task", "--budget", "0"],
    "bad-transport": ["mcp", "serve", ".", "--transport", "carrier-pigeon"],
    "bad-install-client": ["mcp", "install", "--client", "vim", "--yes"],
    "import-missing-dir": ["memory", "import", "/nonexistent/contextos/export"],
    "bad-export-format": ["memory", "export", "/nonexistent/contextos/out", "--format", "pdf"],
}

CASES = [
    Case(
        "faults.nested-1100-dirs", AREA, "1,100 nested directories: `index`, `search`", _nested_dirs
    ),
    Case(
        "faults.nested-json-transcript",
        AREA,
        "`memory extract --transcript` of a 200,000-deep JSON line",
        _nested_transcript,
        fast=True,
    ),
    Case(
        "faults.nested-json-rpc",
        AREA,
        "MCP: a 200,000-deep JSON-RPC line, then index_status",
        _nested_rpc,
    ),
    Case(
        "faults.as-of-year-99999",
        AREA,
        "`recall --as-of 99999-12-31`",
        _as_of("99999-12-31"),
    ),
    Case(
        "faults.as-of-min-date-offset",
        AREA,
        "`recall --as-of 0001-01-01T00:00:00+14:00`",
        _as_of("0001-01-01T00:00:00+14:00"),
        fast=True,
    ),
    Case(
        "faults.as-of-max-date-offset",
        AREA,
        "`recall --as-of 9999-12-31T23:59:59-14:00`",
        _as_of("9999-12-31T23:59:59-14:00"),
    ),
    Case(
        "faults.as-of-not-a-date", AREA, "`recall --as-of yesterday-ish`", _as_of("yesterday-ish")
    ),
    Case(
        "faults.long-paths-read-file",
        AREA,
        "MCP read_file: 5,000-char name, 3,000 levels, NUL, ../ x50",
        _long_paths_mcp,
    ),
    Case(
        "faults.long-paths-cli",
        AREA,
        "`index`, `search -p`, `context -p` with paths over PATH_MAX",
        _long_paths_cli,
        fast=True,
    ),
    *[
        Case(
            f"faults.args.{k}",
            AREA,
            f"`contextos {' '.join(v)}`: one line, no usage box",
            _args(v),
            fast=k == "missing-query",
        )
        for k, v in _ARGS.items()
    ],
]

"""Area 6, faults (first half): a full disk, corrupt-but-openable databases, a database or a
lock file that is a directory, an unusable ``CONTEXTOS_HOME`` (a file, a read-only file system),
and memory export over a file or into a missing directory. Bad inputs are in ``bad_inputs``."""

from __future__ import annotations

import json
import resource
import signal
from collections.abc import Callable
from pathlib import Path

from benchmarks.redteam.clients import Died, Hung
from benchmarks.redteam.lab import Lab
from benchmarks.redteam.verdict import Case, Verdict, judge_cli, judge_tool, worst

AREA = "6 faults and inputs"


def small_repo(lab: Lab, files: int = 3, size: int = 2) -> Path:
    """``files`` small Python modules plus ``ledger.py`` defining reconcile_ledger_entries."""
    repo = lab.path("repo")
    for i in range(files):
        body = "".join(f"def step_{i}_{j}(state):\n    return state * {j}\n\n" for j in range(size))
        (repo / f"mod_{i:03d}.py").write_text(body)
    (repo / "ledger.py").write_text("def reconcile_ledger_entries(x):\n    return x\n")
    return repo


def _fsize_limit(kib: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (kib * 1024, kib * 1024))

    return apply


def _full_disk_index(lab: Lab) -> Verdict:
    repo = small_repo(lab, files=300, size=40)
    fs = lab.small_fs(1024)
    if fs is not None:
        ran = lab.cli(["index", str(repo)], fs / "home", timeout=90)
        how = "home on a 1 MiB tmpfs"
    else:
        ran = lab.cli(["index", str(repo)], lab.path("home"), timeout=90, preexec=_fsize_limit(512))
        how = "ulimit -f 512 KiB"
    v = judge_cli(ran, "error")
    return Verdict(v.outcome, f"{how}: {v.evidence}")


def _fill(where: Path) -> None:
    with (where / "filler").open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass


def _full_disk_remember(lab: Lab) -> Verdict:
    fs = lab.small_fs(2048)
    if fs is None:
        return Verdict("ok", "not tried: cannot mount a small file system here")
    home = fs / "home"
    first = lab.cli(["remember", "The ledger closes on the last Friday of the month."], home)
    if first.code != 0:
        return judge_cli(first, "success")
    _fill(fs)
    text = "We rotate the on-call schedule weekly. " * 2000
    ran = lab.cli(["remember", text[:60000]], home)
    (fs / "filler").unlink()
    listed = lab.cli(["memory", "list", "--json"], home)
    if "last Friday" not in listed.stdout:
        return Verdict(
            "data_lost",
            f"after a full-disk remember the earlier memory is gone: "
            f"{(listed.stdout + listed.stderr)[-200:]}",
        )
    return judge_cli(ran, "either")


def _workspace_db(lab: Lab, home: Path) -> Path:
    return next((home / "workspaces").glob("*.db"))


def _corrupt(path: Path) -> None:
    """Overwrite every page but the first (header and schema stay: the file still opens)."""
    data = path.read_bytes()
    page = int.from_bytes(data[16:18], "big") or 65536
    path.write_bytes(data[:page] + b"\xa5" * (len(data) - page))


def _corrupt_workspace(lab: Lab) -> Verdict:
    repo, home = small_repo(lab, files=40, size=30), lab.path("home")
    lab.cli(["index", str(repo)], home)
    for p in (home / "workspaces").glob("*.db-wal"):
        p.unlink()
    _corrupt(_workspace_db(lab, home))
    runs = [
        lab.cli(["search", "reconcile_ledger_entries", "-p", str(repo)], home),
        lab.cli(["status", str(repo)], home),
        lab.cli(["index", str(repo)], home),
    ]
    return worst(judge_cli(r, "either") for r in runs)


def _corrupt_workspace_mcp(lab: Lab) -> Verdict:
    repo, home = small_repo(lab, files=40, size=30), lab.path("home")
    lab.cli(["index", str(repo)], home)
    _corrupt(_workspace_db(lab, home))
    with lab.mcp(repo, home) as session:
        try:
            session.start()
            status = session.wait_indexed(30)
            hits = session.call("search_code", {"query": "reconcile_ledger_entries"})
        except (Hung, Died) as exc:
            tb = "Traceback" in session.stderr()
            return Verdict(
                "traceback" if tb else "hang" if isinstance(exc, Hung) else "wrong", str(exc)[-240:]
            )
    shown = {k: status.get(k) for k in ("state", "error")}
    if status.get("state") == "error" and status.get("error"):
        return worst(
            [Verdict("clear", f"index_status {shown}"), judge_tool("search_code", hits, "either")]
        )
    if "ledger.py" in json.dumps(hits):
        return Verdict("ok", f"rebuilt: index_status {shown}")
    return Verdict("wrong", f"index_status {shown}; search_code: {json.dumps(hits)[:200]}")


def _corrupt_memory(lab: Lab) -> Verdict:
    home = lab.path("home")
    for i in range(3):
        lab.cli(["remember", f"Fact number {i}: the service {i} listens on port {8000 + i}."], home)
    db = home / "memory.db"
    _corrupt(db)
    runs = [
        lab.cli(["recall", "port"], home),
        lab.cli(["memory", "list"], home),
        lab.cli(["remember", "One more fact about ports."], home),
    ]
    return worst(judge_cli(r, "either") for r in runs)


def _not_a_db(lab: Lab) -> Verdict:
    home = lab.path("home")
    (home / "memory.db").write_text("this is not a database\n" * 200)
    runs = [lab.cli(["remember", "A fact."], home), lab.cli(["recall", "fact"], home)]
    return worst(judge_cli(r, "error") for r in runs)


def _home_is_file(lab: Lab) -> Verdict:
    home = lab.path("x") / "home-file"
    home.write_text("not a directory")
    repo = small_repo(lab)
    runs = [lab.cli(["remember", "A fact."], home), lab.cli(["index", str(repo)], home)]
    return worst(judge_cli(r, "error") for r in runs)


def _db_is_dir(which: str) -> Callable[[Lab], Verdict]:
    def run(lab: Lab) -> Verdict:
        repo, home = small_repo(lab), lab.path("home")
        if which == "memory":
            (home / "memory.db").mkdir()
            runs = [lab.cli(["remember", "A fact."], home), lab.cli(["recall", "fact"], home)]
        else:
            lab.cli(["index", str(repo)], home)
            for p in (home / "workspaces").glob("*.db*"):
                if p.suffix == ".db":
                    p.unlink()
                    p.mkdir()
            runs = [
                lab.cli(["index", str(repo)], home),
                lab.cli(["search", "ledger", "-p", str(repo)], home),
            ]
        return worst(judge_cli(r, "either") for r in runs)

    return run


def _mcp_home_is_file(lab: Lab) -> Verdict:
    home = lab.path("x") / "home-file"
    home.write_text("not a directory")
    session = lab.mcp(small_repo(lab), home)
    try:
        session.start(timeout=20)
        status = session.wait_indexed(20)
    except Died:
        code = session.close()
        lines = [line for line in session.stderr().splitlines() if line.strip()]
        if "Traceback" in session.stderr():
            return Verdict("traceback", "server stderr: " + lines[-1][:200])
        ok = code in (1, 2) and len(lines) == 1
        return Verdict(
            "clear" if ok else "wrong", f"server exited {code}: {' / '.join(lines)[-240:]}"
        )
    except Hung as exc:
        return Verdict("hang", str(exc))
    finally:
        session.close()
    if "Traceback" in session.stderr():
        return Verdict("traceback", "server stderr: " + session.stderr().strip()[-200:])
    shown = {k: status.get(k) for k in ("state", "error")}
    if status.get("state") == "error" and status.get("error"):
        return Verdict("clear", f"index_status {shown}")
    return Verdict("wrong", f"home is a file, yet index_status {shown}")


def _home_read_only(lab: Lab) -> Verdict:
    fs = lab.small_fs(1024, read_only=True)
    if fs is None:
        return Verdict("ok", "not tried: cannot mount a read-only file system here")
    repo = small_repo(lab)
    runs = [
        lab.cli(["remember", "A fact."], fs),
        lab.cli(["index", str(repo)], fs),
        lab.cli(["search", "ledger", "-p", str(repo)], fs),
    ]
    return worst(judge_cli(r, "error") for r in runs)


def _lock_is_dir(lab: Lab) -> Verdict:
    repo, home = small_repo(lab), lab.path("home")
    lab.cli(["index", str(repo)], home)
    locks = list((home / "workspaces").glob("*.lock"))
    if not locks:
        return Verdict("ok", "not tried: no *.lock file next to the workspace database")
    for lock in locks:
        lock.unlink()
        lock.mkdir()
    (repo / "new.py").write_text("def fresh():\n    return 2\n")
    runs = [
        lab.cli(["index", str(repo)], home, timeout=30),
        lab.cli(["search", "fresh", "-p", str(repo)], home, timeout=30),
    ]
    return worst(judge_cli(r, "either") for r in runs)


def _export_to_file(lab: Lab) -> Verdict:
    home = lab.path("home")
    lab.cli(["remember", "Exports go to the shared drive."], home)
    target = lab.path("out") / "existing.md"
    target.write_text("precious notes\n")
    ran = lab.cli(["memory", "export", str(target)], home)
    if not target.is_file() or target.read_text() != "precious notes\n":
        return Verdict("data_lost", "memory export replaced an existing file")
    return judge_cli(ran, "error")


def _export_missing_dir(lab: Lab) -> Verdict:
    home = lab.path("home")
    lab.cli(["remember", "Exports go to the shared drive."], home)
    ran = lab.cli(["memory", "export", str(lab.root / "no" / "such" / "dir")], home)
    return judge_cli(ran, "either")


CASES = [
    Case(
        "faults.full-disk-index",
        AREA,
        "`index` of 300 files with the home on a 1 MiB file system (else ulimit -f)",
        _full_disk_index,
    ),
    Case(
        "faults.full-disk-remember",
        AREA,
        "`remember` on a full disk; the earlier memory must survive",
        _full_disk_remember,
    ),
    Case(
        "faults.corrupt-workspace-db",
        AREA,
        "workspace database pages overwritten (header kept): `search`, `status`, `index`",
        _corrupt_workspace,
    ),
    Case(
        "faults.corrupt-workspace-db-mcp",
        AREA,
        "the same database served by MCP: index_status and search_code",
        _corrupt_workspace_mcp,
    ),
    Case(
        "faults.corrupt-memory-db",
        AREA,
        "memory.db pages overwritten: `recall`, `memory list`, `remember`",
        _corrupt_memory,
    ),
    Case(
        "faults.memory-db-not-a-database",
        AREA,
        "memory.db is a text file: `remember`, `recall`",
        _not_a_db,
    ),
    Case(
        "faults.home-is-a-file",
        AREA,
        "CONTEXTOS_HOME is a regular file: `remember`, `index`",
        _home_is_file,
        fast=True,
    ),
    Case(
        "faults.mcp-home-is-a-file",
        AREA,
        "CONTEXTOS_HOME is a regular file: `contextos mcp` exits with one line or reports error",
        _mcp_home_is_file,
    ),
    Case(
        "faults.memory-db-is-a-directory",
        AREA,
        "memory.db is a directory: `remember`, `recall`",
        _db_is_dir("memory"),
    ),
    Case(
        "faults.workspace-db-is-a-directory",
        AREA,
        "the workspace database is a directory: `index`, `search`",
        _db_is_dir("workspace"),
    ),
    Case(
        "faults.home-read-only",
        AREA,
        "CONTEXTOS_HOME on a read-only file system: `remember`, `index`, `search`",
        _home_read_only,
    ),
    Case(
        "faults.lock-is-a-directory",
        AREA,
        "a directory where the index lock file goes: `index`, `search`",
        _lock_is_dir,
    ),
    Case(
        "faults.export-to-existing-file",
        AREA,
        "`memory export FILE` over an existing file",
        _export_to_file,
        fast=True,
    ),
    Case(
        "faults.export-to-missing-dir",
        AREA,
        "`memory export` into a missing directory tree",
        _export_missing_dir,
    ),
]

"""Area 7, ``memory import``: a bad record in the middle (of the directory, of one file), a
secret in the middle, a deeply nested front-matter value, and CRLF / BOM files. Data lost = the
store changed although the import failed; CRLF and BOM exports must import to the same texts."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.redteam.clients import CONTEXTOS
from benchmarks.redteam.lab import Lab
from benchmarks.redteam.verdict import Case, Verdict, judge_cli

AREA = "7 memory import"
TEXTS = [
    ("alpha", "The ledger closes on the last Friday of the month."),
    ("alpha", "Invoices are numbered per region."),
    ("alpha", "Refunds need a second approver."),
    ("beta", "The on-call rota changes on Mondays."),
    ("gamma", "Staging deploys run at noon UTC."),
]


def _exported(lab: Lab) -> Path:
    """An export of TEXTS (alpha.md with three records, beta.md, gamma.md), made once."""
    home = lab.path("home-src")
    for tag, text in TEXTS:
        lab.cli(["remember", text, "--tag", tag], home)
    out = lab.path("export")
    lab.cli(["memory", "export", str(out)], home)
    return out


def _export(lab: Lab) -> Path:
    """A fresh copy of the shared export for one case to spoil."""
    copy = lab.path("export-copy") / "memories"
    shutil.copytree(lab.shared("memory-export", lambda: _exported(lab)), copy)
    return copy


def _records(text: str) -> list[str]:
    """The records of an exported file, each starting with its ``---`` line."""
    parts = text.split("\n---\nid:")
    return [parts[0]] + ["---\nid:" + p for p in parts[1:]]


def _snapshot(lab: Lab, home: Path) -> str:
    return lab.cli(["memory", "list", "--all", "--json"], home).stdout


def _import_bad(spoil: Callable[[Lab, Path], list[str]]) -> Callable[[Lab], Verdict]:
    def run(lab: Lab) -> Verdict:
        out = _export(lab)
        secrets = spoil(lab, out)
        home = lab.path("home-dst")
        lab.cli(["remember", "An earlier memory that must stay as it is."], home)
        before = _snapshot(lab, home)
        ran = lab.cli(["memory", "import", str(out)], home)
        after = _snapshot(lab, home)
        stored = b"".join(p.read_bytes() for p in home.glob("memory.db*") if p.is_file())
        if any(s.encode() in stored for s in secrets):
            return Verdict("leaked", "the secret from the import is in memory.db")
        verdict = judge_cli(ran, "error", secrets)
        if before != after:
            n_before, n_after = len(json.loads(before or "[]")), len(json.loads(after or "[]"))
            return Verdict(
                "data_lost",
                f"import failed ({verdict.evidence[:120]}) but the store "
                f"changed: {n_before} -> {n_after} memories",
            )
        return verdict

    return run


def _bad_middle_file(lab: Lab, out: Path) -> list[str]:
    beta = out / "beta.md"
    beta.write_text(beta.read_text().replace('scope: "user"', 'scope: "galaxy"'))
    return []


def _bad_middle_record(lab: Lab, out: Path) -> list[str]:
    alpha = out / "alpha.md"
    recs = _records(alpha.read_text())
    recs[1] = recs[1].replace("score: 5", "score: 11")
    alpha.write_text("\n".join(recs))
    return []


def _secret_middle(lab: Lab, out: Path) -> list[str]:
    alpha = out / "alpha.md"
    key = lab.secret("AKIA", 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    alpha.write_text(
        alpha.read_text().replace(
            "Invoices are numbered per region.", f"Invoices use the key {key} to upload."
        )
    )
    return [key]


def _nested_value(lab: Lab, out: Path) -> list[str]:
    beta = out / "beta.md"
    deep = "[" * 100_000 + "]" * 100_000
    text = beta.read_text()
    start = text.index("keywords:")
    end = text.index("\n", start)
    beta.write_text(text[:start] + "keywords: " + deep + text[end:])
    return []


def _reencode(how: str) -> Callable[[Lab], Verdict]:
    def run(lab: Lab) -> Verdict:
        out = _export(lab)
        for f in out.glob("*.md"):
            text = f.read_text()
            data = (
                text.replace("\n", "\r\n").encode()
                if how == "crlf"
                else (b"\xef\xbb\xbf" + text.encode())
            )
            f.write_bytes(data)
        home = lab.path("home-dst")
        ran = lab.cli(["memory", "import", str(out)], home)
        verdict = judge_cli(ran, "success")
        if verdict.outcome != "ok":
            return verdict
        got = sorted(m["text"] for m in json.loads(_snapshot(lab, home) or "[]"))
        want = sorted(t for _, t in TEXTS)
        if got != want:
            return Verdict("wrong", f"imported texts differ: {got[:2]!r} vs {want[:2]!r}")
        return Verdict("ok", "imported the same texts")

    return run


def _kill_mid_import(lab: Lab) -> Verdict:
    """2,000 records (copies of a real exported one, new ids and texts); ``kill -9`` once the
    import is writing; the store must hold none of them or all of them."""
    template = _records((_export(lab) / "gamma.md").read_text())[0].rstrip("\n")
    out = lab.path("big-export")
    n = 2000
    records = []
    for i in range(n):
        rec = re.sub(r'id: "[0-9a-f]{12}"', f'id: "{i:012x}"', template)
        records.append(rec.replace(TEXTS[-1][1], f"Service {i} listens on port {10000 + i}."))
    (out / "gamma.md").write_text("\n\n".join(records) + "\n")
    home = lab.path("home-dst")
    lab.cli(["remember", "An earlier memory that must stay as it is."], home)
    proc = subprocess.Popen(
        [CONTEXTOS, "memory", "import", str(out)],
        env=lab.env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wal, deadline = home / "memory.db-wal", time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size > 64 * 1024:
            break
        time.sleep(0.01)
    finished = proc.poll() is not None
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    count = len(json.loads(_snapshot(lab, home) or "[]"))
    when = "after it finished" if finished else "mid-write"
    if count in (1, 1 + n):
        return Verdict("ok", f"killed {when}: {count - 1} of {n} records in the store")
    return Verdict("data_lost", f"killed {when}: {count - 1} of {n} records in the store")


CASES = [
    Case(
        "import.bad-middle-file",
        AREA,
        'beta.md (2nd of 3 files) has scope "galaxy"',
        _import_bad(_bad_middle_file),
    ),
    Case(
        "import.bad-middle-record",
        AREA,
        "2nd of 3 records in alpha.md has score 11",
        _import_bad(_bad_middle_record),
        fast=True,
    ),
    Case(
        "import.secret-middle-record",
        AREA,
        "2nd record's text holds an AWS access key",
        _import_bad(_secret_middle),
    ),
    Case(
        "import.nested-json-value",
        AREA,
        "keywords: a 100,000-deep JSON list",
        _import_bad(_nested_value),
    ),
    Case(
        "import.crlf", AREA, "every exported file converted to CRLF", _reencode("crlf"), fast=True
    ),
    Case("import.bom", AREA, "every exported file starts with a UTF-8 BOM", _reencode("bom")),
    Case(
        "import.kill9-mid-import",
        AREA,
        "`memory import` of 2,000 records killed -9 while writing: none or all stored",
        _kill_mid_import,
    ),
]

"""False positives of secret redaction: how many ordinary lines ``secrets.redact`` changes.

Runs the redactor over every text line of the committed tree (``HEAD``) of each repository:
this checkout, and with ``--mirrors DIR`` the bare mirrors of the benchmark repositories
(``DIR/owner+name/repo``, one per line of ``--repos``). These trees hold no real credentials
(public projects), so nearly every redacted line is a false positive; the sample lets a human
judge each one. A text file is a blob with no NUL byte in its first 8 KiB and at most
``--max-bytes``; files ``contextos.secrets`` refuses whole (by path or content) are counted
apart, not redacted. The redactor must keep every file's line count (checked). Target: under
0.1 % of lines redacted.

    python -m benchmarks.micro.redaction_fp --mirrors /work/.mirror --out redaction_fp.json
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common.results import REPO_ROOT, machine_info, write_json_atomic
from contextos.secrets import is_secret_content, is_secret_path, redact

_REPOS = REPO_ROOT.parent / "shared" / "bench" / "localize" / "REPOS.txt"


@dataclass(slots=True)
class Tally:
    """Counts for one repository, and the redacted lines found (capped by the caller)."""

    files: int = 0
    lines: int = 0
    redacted: int = 0
    refused_files: list[str] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    samples: list[dict[str, Any]] = field(default_factory=list)


def blobs(git_dir: Path, max_bytes: int) -> Iterator[tuple[str, bytes]]:
    """``(path, bytes)`` of every blob of ``HEAD`` up to ``max_bytes``, via one ``cat-file``."""
    listing = subprocess.run(
        ["git", f"--git-dir={git_dir}", "ls-tree", "-r", "-z", "-l", "HEAD"],
        check=True,
        capture_output=True,
    ).stdout
    wanted: list[tuple[str, str]] = []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.partition(b"\t")
        _mode, kind, sha, size = meta.split()
        if kind == b"blob" and size.isdigit() and int(size) <= max_bytes:
            wanted.append((path.decode("utf-8", "replace"), sha.decode()))
    with subprocess.Popen(
        ["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        for path, sha in wanted:
            proc.stdin.write(sha.encode() + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            if header[1] == b"missing":
                continue
            data = proc.stdout.read(int(header[2]))
            proc.stdout.read(1)
            yield path, data
        proc.stdin.close()


def measure(git_dir: Path, max_bytes: int, max_samples: int) -> Tally:
    tally = Tally()
    for path, data in blobs(git_dir, max_bytes):
        if b"\0" in data[:8192]:
            continue
        if is_secret_path(path) or is_secret_content(data, path):
            tally.refused_files.append(path)
            continue
        text = data.decode("utf-8", errors="replace")
        before = text.split("\n")
        after = redact(text).split("\n")
        if len(before) != len(after):
            raise AssertionError(f"{git_dir}:{path}: redaction changed the line count")
        tally.files += 1
        tally.lines += len(before) - (before[-1] == "")
        for n, (old, new) in enumerate(zip(before, after, strict=True), start=1):
            if old == new:
                continue
            tally.redacted += 1
            kinds = sorted(set(_kinds(new)))
            tally.kinds.update(kinds)
            if len(tally.samples) < max_samples:
                tally.samples.append(
                    {"path": path, "line": n, "kinds": kinds, "text": old.strip()[:200]}
                )
    return tally


def _kinds(line: str) -> Iterator[str]:
    start = 0
    while (i := line.find("[REDACTED:", start)) >= 0:
        end = line.find("]", i)
        yield line[i + 10 : end]
        start = end


def _targets(args: argparse.Namespace) -> list[tuple[str, Path]]:
    targets = [("contextos (this repository)", REPO_ROOT / ".git")]
    if args.mirrors is not None:
        for line in args.repos.read_text(encoding="utf-8").splitlines():
            repo = line.strip()
            if repo and not repo.startswith("#"):
                git_dir = args.mirrors / repo.replace("/", "+") / "repo"
                if git_dir.is_dir():
                    targets.append((repo, git_dir))
                else:
                    print(f"skipped {repo}: no mirror at {git_dir}", file=sys.stderr)
    return targets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.micro.redaction_fp", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--mirrors", type=Path, help="bare mirrors, DIR/owner+name/repo")
    parser.add_argument("--repos", type=Path, default=_REPOS, help="owner/name per line")
    parser.add_argument("--max-bytes", type=int, default=1 << 20, help="skip larger blobs")
    parser.add_argument("--samples", type=int, default=40, help="redacted lines kept per repo")
    parser.add_argument("--out", type=Path, default=Path("redaction_fp.json"))
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    for name, git_dir in _targets(args):
        began = time.perf_counter()
        t = measure(git_dir, args.max_bytes, args.samples)
        print(f"{name}: {t.lines:,} lines in {time.perf_counter() - began:.0f} s", file=sys.stderr)
        rows.append(
            {
                "repo": name,
                "files": t.files,
                "lines": t.lines,
                "redacted": t.redacted,
                "percent": round(100 * t.redacted / max(t.lines, 1), 4),
                "kinds": dict(t.kinds.most_common()),
                "refused_files": t.refused_files,
                "samples": t.samples,
            }
        )
    lines = sum(r["lines"] for r in rows)
    redacted = sum(r["redacted"] for r in rows)
    result = {
        "machine": machine_info(),
        "seconds": round(time.perf_counter() - started, 1),
        "lines": lines,
        "redacted": redacted,
        "percent": round(100 * redacted / max(lines, 1), 4),
        "repos": rows,
    }
    write_json_atomic(args.out, result)
    print("| repository | files | lines | redacted | % | refused whole |")
    print("|---|---:|---:|---:|---:|---:|")
    total = {
        **result,
        "repo": "**all**",
        "files": sum(r["files"] for r in rows),
        "refused_files": [f for r in rows for f in r["refused_files"]],
    }
    for r in [*rows, total]:
        refused = len(r["refused_files"])
        print(
            f"| {r['repo']} | {r['files']:,} | {r['lines']:,} | {r['redacted']:,} "
            f"| {r['percent']:.4f} | {refused} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

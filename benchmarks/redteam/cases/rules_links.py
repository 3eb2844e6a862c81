"""Area 2, rules files that lead out of the workspace: ``CLAUDE.md -> <outside>/id_rsa``,
``.cursor/rules/x.mdc -> <outside file>``, an ``AGENTS.md`` hard-linked to an outside key.
Leaked = the outside file's secret appears in ``contextos context --json`` or MCP
``build_context``."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from benchmarks.redteam.clients import Died, Hung
from benchmarks.redteam.lab import Lab
from benchmarks.redteam.verdict import Case, Verdict, judge_cli, judge_tool

AREA = "2 rules links"
CONTROL = "rules_control_marker"
"""A word in a legitimate rules file: if it is missing, rules were not packed at all and the
attack proves nothing."""


def private_key(lab: Lab) -> tuple[str, str]:
    """A PEM private key block whose body is a fresh canary, and the canary."""
    body = lab.secret(
        "MIIEow", 58, alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop0123456789+/"
    )
    block = (
        f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n{body[::-1]}\n-----END RSA PRIVATE KEY-----\n"
    )
    return block, body


def _outside(lab: Lab) -> tuple[Path, list[str]]:
    out = lab.path("outside")
    block, body = private_key(lab)
    (out / "id_rsa").write_text(block)
    (out / "id_ed25519").write_text(block)
    note = lab.secret("prod-db-passphrase-", 20)
    (out / "notes.txt").write_text(f"Production database passphrase: {note}\n")
    (out / "cursor" / "rules").mkdir(parents=True)
    (out / "cursor" / "rules" / "x.mdc").write_text(f"Always use passphrase {note}\n")
    return out, [body, note]


def _repo(lab: Lab) -> Path:
    repo = lab.path("repo")
    (repo / "src").mkdir()
    (repo / "src" / "billing.py").write_text(
        "def refund_invoice(invoice):\n    return invoice.total * -1\n"
    )
    (repo / "src" / "AGENTS.md").write_text(f"Refunds are negative totals ({CONTROL}).\n")
    return repo


def _plant(repo: Path, out: Path, which: str) -> None:
    if which in ("claude", "all"):
        (repo / "CLAUDE.md").symlink_to(out / "id_rsa")
    if which in ("cursor", "all"):
        (repo / ".cursor" / "rules").mkdir(parents=True)
        (repo / ".cursor" / "rules" / "x.mdc").symlink_to(out / "notes.txt")
    if which in ("agents-hardlink", "all"):
        os.link(out / "id_ed25519", repo / "AGENTS.md")
    if which == "cursor-dir":
        (repo / ".cursor").symlink_to(out / "cursor")
    if which == "relative":
        (repo / "CLAUDE.md").symlink_to(Path("..") / out.name / "notes.txt")


def _cli(which: str) -> Callable[[Lab], Verdict]:
    def run(lab: Lab) -> Verdict:
        out, secrets = _outside(lab)
        repo = _repo(lab)
        _plant(repo, out, which)
        ran = lab.cli(["context", "refund an invoice", "-p", str(repo), "--json"], lab.path("home"))
        verdict = judge_cli(ran, "either", secrets)
        if verdict.outcome == "ok" and CONTROL not in ran.stdout:
            return Verdict("wrong", "the legitimate src/AGENTS.md is missing too: nothing judged")
        return verdict

    return run


def _html(lab: Lab) -> Verdict:
    out, secrets = _outside(lab)
    repo = _repo(lab)
    _plant(repo, out, "all")
    page = lab.path("html") / "window.html"
    ran = lab.cli(
        ["context", "refund an invoice", "-p", str(repo), "--html", str(page)], lab.path("home")
    )
    written = page.read_text(errors="replace") if page.is_file() else ""
    found = next((s for s in secrets if s in written), None)
    if found:
        return Verdict("leaked", "the outside file's secret is in the --html page")
    verdict = judge_cli(ran, "either", secrets)
    if verdict.outcome == "ok" and CONTROL not in written:
        return Verdict("wrong", "the legitimate src/AGENTS.md is missing too: nothing judged")
    return verdict


def _mcp(lab: Lab) -> Verdict:
    out, secrets = _outside(lab)
    repo = _repo(lab)
    _plant(repo, out, "all")
    with lab.mcp(repo, lab.path("home")) as session:
        try:
            session.start()
            session.wait_indexed(30)
            reply = session.call("build_context", {"task": "refund an invoice", "budget": 4000})
        except (Hung, Died) as exc:
            return Verdict("hang" if isinstance(exc, Hung) else "wrong", str(exc)[:240])
    verdict = judge_tool("build_context", reply, "success", secrets)
    if verdict.outcome == "ok" and CONTROL not in json.dumps(reply):
        return Verdict("wrong", "the legitimate src/AGENTS.md is missing too: nothing judged")
    return verdict


CASES = [
    Case(
        "links.claude-md-to-outside-id-rsa",
        AREA,
        "CLAUDE.md -> <outside>/id_rsa; `contextos context --json`",
        _cli("claude"),
        fast=True,
    ),
    Case(
        "links.cursor-rule-to-outside-file",
        AREA,
        ".cursor/rules/x.mdc -> <outside>/notes.txt; `contextos context --json`",
        _cli("cursor"),
    ),
    Case(
        "links.agents-md-hardlink-to-key",
        AREA,
        "AGENTS.md hard-linked to an outside private key; `contextos context --json`",
        _cli("agents-hardlink"),
    ),
    Case(
        "links.cursor-dir-symlink",
        AREA,
        ".cursor -> <outside>/cursor (a directory symlink holding rules/x.mdc); `context --json`",
        _cli("cursor-dir"),
    ),
    Case(
        "links.claude-md-relative-symlink",
        AREA,
        "CLAUDE.md -> ../<outside>/notes.txt (relative); `contextos context --json`",
        _cli("relative"),
    ),
    Case(
        "links.context-html",
        AREA,
        "all three links; `contextos context --html FILE`: the page must not hold the secrets",
        _html,
    ),
    Case("links.mcp-build-context", AREA, "all three links; MCP build_context", _mcp),
]

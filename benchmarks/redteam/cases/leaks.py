"""Area 3, secrets indexed or served: one workspace holding secret files of every kind (and
links to them), indexed with ``contextos index`` and served by one MCP session; and secrets
handed to ``remember`` (CLI and MCP). Leaked = a secret value appears in any output (search
results, ``read_file``, context JSON) or in the memory store."""

from __future__ import annotations

import base64
import json
import os
import re
import string
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.redteam.cases.rules_links import private_key
from benchmarks.redteam.clients import Died, Hung, McpSession
from benchmarks.redteam.lab import Lab
from benchmarks.redteam.verdict import Case, Verdict, judge_cli, judge_tool, worst

AREA = "3 secrets served"
B64 = string.ascii_letters + string.digits + "+/"


@dataclass
class Planted:
    """One secret file of the workspace: where it is, the word that finds it, its secrets."""

    path: str
    marker: str
    secrets: list[str]
    start_line: int = 1


@dataclass
class Workspace:
    root: Path
    home: Path
    files: dict[str, Planted] = field(default_factory=dict)
    session: McpSession | None = None
    index: Any = None


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=True)


def _plant(lab: Lab, root: Path) -> dict[str, Planted]:
    files: dict[str, Planted] = {}

    def put(case: str, path: str, text: str, secrets: list[str], start: int = 1) -> None:
        marker = "quokka_" + case.replace("-", "_")
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace("MARKER", marker))
        files[case] = Planted(path, marker, secrets, start)

    k = lab.secret("sk-proj-", 40)
    put("dotenv", ".env", f"# MARKER\nOPENAI_API_KEY={k}\n", [k])
    (root / "innocent.txt").symlink_to(".env")
    os.link(root / ".env", root / "hardlink.txt")
    files["symlink-to-env"] = Planted("innocent.txt", files["dotenv"].marker, [k])
    files["hardlink-to-env"] = Planted("hardlink.txt", files["dotenv"].marker, [k])
    aws = lab.secret("", 40, B64)
    put("envrc", ".envrc", f"# MARKER\nexport AWS_SECRET_ACCESS_KEY={aws}\n", [aws])
    pw, sk = lab.secret("Pg", 18), lab.secret("sk_live_", 24)
    put("prod-env", "prod.env", f"# MARKER\nDATABASE_PASSWORD={pw}\nSTRIPE_KEY={sk}\n", [pw, sk])
    gh = lab.secret("ghp_", 36)
    put("git-credentials", ".git-credentials", f"https://alice:{gh}@github.com\n# MARKER\n", [gh])
    pg = lab.secret("Pg", 20)
    put("pgpass", ".pgpass", f"# MARKER\ndb.internal:5432:app:alice:{pg}\n", [pg])
    dpw = lab.secret("Dk", 20)
    auth = base64.b64encode(f"alice:{dpw}".encode()).decode()
    docker = {"auths": {"registry.example.com": {"auth": auth}}, "note": "MARKER"}
    put("docker-config", ".docker/config.json", json.dumps(docker, indent=2), [dpw, auth])
    tf = lab.secret("Tf", 22)
    put(
        "tfvars",
        "terraform.tfvars",
        f'# MARKER\nregion = "eu-west-1"\ndb_password = "{tf}"\n',
        [tf],
    )
    akid, asec = lab.secret("AKIA", 16, string.ascii_uppercase + "234567"), lab.secret("", 40, B64)
    put(
        "aws-credentials",
        ".aws/credentials",
        f"# MARKER\n[default]\naws_access_key_id = {akid}\naws_secret_access_key = {asec}\n",
        [akid, asec],
    )
    block, body = private_key(lab)
    notes = "# Deploy notes MARKER\n\nRun the playbook.\n\n" + block + "\nThen restart.\n"
    start = notes.splitlines().index("-----BEGIN RSA PRIVATE KEY-----") + 2
    put("key-in-notes", "docs/deploy-notes.md", notes, [body], start)
    ok, st, gt = lab.secret("sk-proj-", 40), lab.secret("sk_live_", 24), lab.secret("ghp_", 36)
    put(
        "keys-in-source",
        "src/settings.py",
        f'"""Settings MARKER."""\nOPENAI_API_KEY = "{ok}"\nSTRIPE_KEY = "{st}"\n'
        f'GITHUB_TOKEN = "{gt}"\nTIMEOUT = 30\n',
        [ok, st, gt],
    )
    (root / "src" / "app.py").write_text("def main():\n    return 'hello'\n")
    return files


def _build(lab: Lab) -> Workspace:
    root = lab.path("secrets-ws")
    subprocess.run(["git", "init", "-q", str(root)], capture_output=True, check=True)
    files = _plant(lab, root)
    tok = lab.secret("ghp_", 36)
    _git(root, "remote", "add", "origin", f"https://x-access-token:{tok}@github.com/acme/app.git")
    with (root / ".git" / "config").open("a") as fh:
        fh.write("# quokka_git_config\n")
    files["git-config-token"] = Planted(".git/config", "quokka_git_config", [tok])
    ws = Workspace(root, lab.path("home"), files)
    lab.kept_homes.append(ws.home)
    ws.index = lab.cli(["index", str(root)], ws.home, timeout=90)
    ws.session = lab.mcp(root, ws.home)
    try:
        ws.session.start()
        ws.session.wait_indexed(45)
    except (Hung, Died):
        ws.session = None
    return ws


def _file_case(key: str) -> Callable[[Lab], Verdict]:
    def run(lab: Lab) -> Verdict:
        ws: Workspace = lab.shared("secrets-ws", lambda: _build(lab))
        planted = ws.files[key]
        verdicts = [judge_cli(ws.index, "success", planted.secrets)]
        ran = lab.cli(["search", planted.marker, "-p", str(ws.root), "--json"], ws.home)
        verdicts.append(judge_cli(ran, "either", planted.secrets))
        if ws.session is None:
            return worst([*verdicts, Verdict("wrong", "the MCP server did not start or index")])
        try:
            hits = ws.session.call("search_code", {"query": planted.marker})
            read = ws.session.call(
                "read_file", {"path": planted.path, "start_line": planted.start_line}
            )
        except (Hung, Died) as exc:
            ws.session = None
            return worst(
                [*verdicts, Verdict("hang" if isinstance(exc, Hung) else "wrong", str(exc)[:240])]
            )
        served = not read.get("result", {}).get("isError") and "error" not in read
        kinds = sorted(set(re.findall(r"\[REDACTED:[\w-]+\]", json.dumps(read))))
        first = judge_tool(f"read_file {planted.path}", read, "either", planted.secrets)
        if first.outcome == "ok" and key == "keys-in-source":
            first = (
                Verdict("ok", f"read_file served {planted.path} with {', '.join(kinds)}")
                if kinds
                else Verdict("wrong", "read_file served the keys without [REDACTED:kind]")
            )
        elif first.outcome == "ok" and served:
            first = Verdict("ok", f"read_file served {planted.path}, no secret in it")
        later = [judge_tool("search_code", hits, "either", planted.secrets), *verdicts]
        return worst([first, *later])

    return run


def _context_case(lab: Lab) -> Verdict:
    ws: Workspace = lab.shared("secrets-ws", lambda: _build(lab))
    every = [s for p in ws.files.values() for s in p.secrets]
    task = "configure " + " ".join(sorted({p.marker for p in ws.files.values()}))
    ran = lab.cli(["context", task, "-p", str(ws.root), "--json", "--budget", "32000"], ws.home)
    return judge_cli(ran, "success", every)


def _mcp_context_case(lab: Lab) -> Verdict:
    ws: Workspace = lab.shared("secrets-ws", lambda: _build(lab))
    if ws.session is None:
        return Verdict("wrong", "the MCP server did not start or index")
    every = [s for p in ws.files.values() for s in p.secrets]
    task = "configure " + " ".join(sorted({p.marker for p in ws.files.values()}))
    try:
        reply = ws.session.call("build_context", {"task": task, "budget": 32000})
    except (Hung, Died) as exc:
        ws.session = None
        return Verdict("hang" if isinstance(exc, Hung) else "wrong", str(exc)[:240])
    return judge_tool("build_context", reply, "success", every)


def _remember_case(make: Callable[[Lab], tuple[str, str]]) -> Callable[[Lab], Verdict]:
    def run(lab: Lab) -> Verdict:
        ws: Workspace = lab.shared("secrets-ws", lambda: _build(lab))
        text, secret = make(lab)
        verdicts = [judge_cli(lab.cli(["remember", text], ws.home), "error", [secret])]
        if ws.session is not None:
            try:
                reply = ws.session.call("remember", {"text": text})
                verdicts.append(judge_tool("MCP remember", reply, "error", [secret]))
            except (Hung, Died) as exc:
                ws.session = None
                verdicts.append(Verdict("hang" if isinstance(exc, Hung) else "wrong", str(exc)))
        stored = b"".join(p.read_bytes() for p in ws.home.glob("memory.db*") if p.is_file())
        if secret.encode() in stored:
            verdicts.append(Verdict("leaked", "the secret is in memory.db"))
        out = lab.path("export")
        lab.cli(["memory", "export", str(out)], ws.home)
        if any(secret in f.read_text(errors="replace") for f in out.glob("*")):
            verdicts.append(Verdict("leaked", "the secret is in `memory export`'s files"))
        return worst(verdicts)

    return run


def _aws(lab: Lab) -> tuple[str, str]:
    s = lab.secret("", 40, B64)
    return f"The AWS secret access key for staging: {s}", s


def _slack(lab: Lab) -> tuple[str, str]:
    s = lab.secret("", 24)
    team = lab.secret("T", 8, string.ascii_uppercase)
    url = f"https://hooks.slack.com/services/{team}/B0{s[:8].upper()}/{s}"
    return f"Deploy alerts go to the Slack webhook {url}", s


def _npm(lab: Lab) -> tuple[str, str]:
    s = lab.secret("npm_", 36)
    return f"Publish with the npm token {s}", s


def _azure(lab: Lab) -> tuple[str, str]:
    s = lab.secret("", 86, B64) + "=="
    lab.secrets.append(s)
    return (
        f"Storage: DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey={s};"
        "EndpointSuffix=core.windows.net"
    ), s


def _basic(lab: Lab) -> tuple[str, str]:
    pw = lab.secret("", 16)
    s = base64.b64encode(f"deploy:{pw}".encode()).decode()
    lab.secrets.append(s)
    return f"Call the admin API with the header Authorization: Basic {s}", s


def _password_is(lab: Lab) -> tuple[str, str]:
    s = lab.secret("", 18, string.ascii_lowercase)
    return f"The staging database password is {s}", s


_FILES = {
    "symlink-to-env": "innocent.txt -> .env (symlink)",
    "hardlink-to-env": "hardlink.txt, a hard link to .env",
    "envrc": ".envrc with AWS_SECRET_ACCESS_KEY",
    "prod-env": "prod.env with a password and a Stripe key",
    "git-credentials": ".git-credentials",
    "pgpass": ".pgpass",
    "docker-config": ".docker/config.json with a registry auth",
    "tfvars": "terraform.tfvars with db_password",
    "aws-credentials": ".aws/credentials",
    "git-config-token": ".git/config with a token in the remote URL",
    "key-in-notes": "read_file from the line after BEGIN RSA PRIVATE KEY in docs/deploy-notes.md",
    "keys-in-source": "API keys in src/settings.py (should come back [REDACTED:kind])",
}
_REMEMBER = {
    "aws-secret-key": _aws,
    "slack-webhook": _slack,
    "npm-token": _npm,
    "azure-account-key": _azure,
    "basic-auth-header": _basic,
    "password-is": _password_is,
}
_FAST = {
    "symlink-to-env",
    "key-in-notes",
    "keys-in-source",
    "aws-secret-key",
    "password-is",
}

CASES = [
    *[
        Case(
            f"secrets.file.{k}",
            AREA,
            f"{title}: `search` CLI, MCP search_code + read_file",
            _file_case(k),
            fast=k in _FAST,
        )
        for k, title in _FILES.items()
    ],
    Case(
        "secrets.context-json",
        AREA,
        "`contextos context --json` for a task naming every file",
        _context_case,
    ),
    Case(
        "secrets.mcp-build-context",
        AREA,
        "MCP build_context for a task naming every file",
        _mcp_context_case,
    ),
    *[
        Case(
            f"secrets.remember.{k}",
            AREA,
            f"`remember` (CLI and MCP) of a {k.replace('-', ' ')}; store and export checked",
            _remember_case(make),
            fast=k in _FAST,
        )
        for k, make in _REMEMBER.items()
    ],
]

"""Issue 10, leaks 2 and 3: every attack, run through the entry points that leaked it.

Each row is one way a secret reached a model: a symlink judged by its own name, secret files
the name list missed, a hard link to ``.env``, a key body read from after its header, keys in
ordinary source files, secret shapes ``remember`` stored, and rules files linked out of the
workspace. The entry points are the indexer (``Workspace.index`` / ``search``, the chunks it
stores), MCP ``read_file``, ``MemoryStore.remember`` / ``add_many`` and rules discovery with
``build_context`` (which MCP ``build_context`` calls).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from contextos.context import build_context
from contextos.context.rules import find_rules
from contextos.errors import PathOutsideRootError, UserInputError
from contextos.mcp_server.files import read_range
from contextos.memory import MemoryStore
from contextos.secrets import find_secrets, redact
from contextos.workspace import Workspace
from tests.conftest import Backend, HashingEmbedder, RepoMaker

OPENAI = "sk-proj-Q3vT8mZp1LxR7nW2bK9dF4hJ6sA0cE5g"
AWS_ID = "AKIAQ3VT8MZP1LXR7NW2"
AWS_SECRET = "q3Vt8mZp1LxR7nW2bK9dF4hJ6sA0cE5gT2yU8iO1"
SLACK_HOOK = "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/Xk9dAqZr2LmP0sTuVwYz1234"
NPM = "npm_Q3vT8mZp1LxR7nW2bK9dF4hJ6sA0cE5gT2yU"
AZURE = "AccountKey=Q3vT8mZp1LxR7nW2bK9dF4hJ6sA0cE5gT2yU8iO1pL3kJ7hG5fD9sA2qW4eR6tY8uI0oP+Zx1C=="
BASIC = "Authorization: Basic YWRtaW46aHVudGVyMmh1bnRlcjI="
GITHUB = "ghp_Q3vT8mZp1LxR7nW2bK9dF4hJ6sA0cE5gT2yU"
DOTENV = f"OPENAI_API_KEY={OPENAI}\nDB_PASSWORD=Tr0ub4dor-and-3\n"

SECRET_FILES = {
    ".env": DOTENV,
    ".envrc": f"export OPENAI_API_KEY={OPENAI}\n",
    "prod.env": DOTENV,
    ".git-credentials": f"https://bot:{GITHUB}@github.com\n",
    ".pgpass": "db.internal:5432:app:app:Tr0ub4dor-and-3\n",
    ".docker/config.json": '{"auths": {"ghcr.io": {"auth": "Ym90OlRyMHViNGRvci1hbmQtMw=="}}}\n',
    "terraform.tfvars": 'db_password = "Tr0ub4dor-and-3"\nregion = "eu-west-1"\n',
    ".aws/credentials": f"[default]\naws_access_key_id = {AWS_ID}\n",
}
"""Files refused whole: never indexed, never read."""


@pytest.fixture
def leaky(make_repo: RepoMaker, tmp_path: Path) -> Path:
    """A repository holding every leak of issue 10, item 3, and one ordinary file."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA\n")
    repo = make_repo(
        {
            **SECRET_FILES,
            "app/main.py": "def serve():\n    return 'hello'\n",
            "app/config.py": (
                "import os\n"
                "REGION = 'eu-west-1'\n"
                f"AWS_ACCESS_KEY_ID = '{AWS_ID}'\n"
                f"AWS_SECRET_ACCESS_KEY = '{AWS_SECRET}'\n"
                f'OPENAI_KEY = "{OPENAI}"\n'
                f"SLACK_WEBHOOK = '{SLACK_HOOK}'\n"
                "def configure_billing():\n"
                "    return REGION\n"
            ),
            "deploy/notes.md": (
                "# Deploy\nRun the billing rollout.\n"
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx7Lr0Yh1\n"
                "-----END RSA PRIVATE KEY-----\n"
            ),
        }
    )
    (repo / "innocent.txt").symlink_to(".env")
    (repo / "app" / "notes.txt").symlink_to("../.aws/credentials")
    (repo / "home_key.txt").symlink_to(home / ".ssh" / "id_rsa")
    os.link(repo / ".env", repo / "settings.txt")
    with open(repo / ".git" / "config", "a") as handle:
        handle.write(f'[remote "origin"]\n\turl = https://bot:{GITHUB}@github.com/o/r.git\n')
    return repo


def _stored_text(ws: Workspace) -> Iterator[str]:
    conn = sqlite3.connect(ws.db_path)
    try:
        for (text,) in conn.execute("SELECT text FROM chunks"):
            yield text
        for (body,) in conn.execute("SELECT body FROM chunks_fts"):
            yield body
    finally:
        conn.close()


def test_the_indexer_sees_no_secret_file_and_stores_no_secret_value(leaky: Path) -> None:
    with Workspace(leaky, embedder=HashingEmbedder()) as ws:
        ws.index()
        assert ws.indexed_paths() == ["app/config.py", "app/main.py"]
        stored = "\n".join(_stored_text(ws))
        hits = ws.search("configure billing region AWS secret key slack webhook", k=10)
    for secret in (OPENAI, AWS_ID, AWS_SECRET, SLACK_HOOK, "Tr0ub4dor"):
        assert secret not in stored
        assert all(secret not in hit.text for hit in hits)
    config = "".join(hit.text for hit in hits if hit.path == "app/config.py")
    assert "AWS_SECRET_ACCESS_KEY = '[REDACTED:aws-secret-key]'" in config
    assert "SLACK_WEBHOOK = '[REDACTED:slack-webhook]'" in config
    assert "def configure_billing" in config


@pytest.mark.parametrize(
    "path",
    [
        *SECRET_FILES,
        "innocent.txt",
        "app/notes.txt",
        "settings.txt",
        ".git/config",
        "deploy/notes.md",
    ],
)
def test_read_file_refuses_every_secret_file_and_link(leaky: Path, path: str) -> None:
    with pytest.raises(UserInputError, match=r"secret|private key"):
        read_range(leaky.resolve(), path)


def test_read_file_refuses_a_link_to_a_key_outside_the_workspace(leaky: Path) -> None:
    with pytest.raises(PathOutsideRootError):
        read_range(leaky.resolve(), "home_key.txt")


def test_read_file_from_after_a_key_header_returns_no_key_line(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text(
        "intro\n-----BEGIN PRIVATE KEY-----\nMIIEowIBAAKCAQEAx7Lr0Yh1\nQ3vT8mZp1LxR7nW2\n"
    )
    for start in (1, 3, 4):
        with pytest.raises(UserInputError, match="private key"):
            read_range(tmp_path, "notes.md", start)


def test_read_file_redacts_values_and_keeps_line_numbers(leaky: Path) -> None:
    got = read_range(leaky.resolve(), "app/config.py", 3, 8)
    assert got.text.splitlines() == [
        "AWS_ACCESS_KEY_ID = '[REDACTED:aws-access-key]'",
        "AWS_SECRET_ACCESS_KEY = '[REDACTED:aws-secret-key]'",
        'OPENAI_KEY = "[REDACTED:openai-key]"',
        "SLACK_WEBHOOK = '[REDACTED:slack-webhook]'",
        "def configure_billing():",
        "    return REGION",
    ]
    assert (got.start_line, got.end_line, got.total_lines) == (3, 8, 8)


REMEMBERED = {
    "aws-secret-key": f"the prod aws_secret_access_key is {AWS_SECRET}",
    "slack-webhook": f"alerts go to {SLACK_HOOK}",
    "npm-token": f"publish with {NPM}",
    "azure-key": f"storage: DefaultEndpointsProtocol=https;AccountName=acct;{AZURE}",
    "basic-auth": f"the API wants {BASIC}",
    "stated-secret": "the admin password is Tr0ub4dor&3",
    "github-token": f"use {GITHUB} for the bot",
}


@pytest.fixture
def store(backend: Backend) -> Iterator[MemoryStore]:
    with backend.memory(embedder=HashingEmbedder()) as s:
        yield s


@pytest.mark.parametrize("kind", REMEMBERED)
def test_remember_refuses_and_bulk_ingest_redacts_each_kind(store: MemoryStore, kind: str) -> None:
    text = REMEMBERED[kind]
    with pytest.raises(UserInputError, match="looks like it contains a secret"):
        store.remember(text)
    (ingested,) = store.add_many([{"text": text}])
    assert f"[REDACTED:{kind}]" in ingested.text
    assert find_secrets(ingested.text) == []


def test_redaction_keeps_every_line_and_the_words_around_the_value() -> None:
    text = (
        "a = 1\n"
        "-----BEGIN PRIVATE KEY-----\nMIIEow\nQ3vT8m\n-----END PRIVATE KEY-----\n"
        f"token = '{GITHUB}'  # the deploy bot\n"
    )
    out = redact(text)
    assert out.count("\n") == text.count("\n")
    assert out.splitlines()[1:5] == ["[REDACTED:private-key]"] * 4
    assert out.splitlines()[5] == "token = '[REDACTED:github-token]'  # the deploy bot"


ORDINARY = [
    "token = tokens[i]",
    "password = getpass.getpass()",
    'SECRET_KEY = os.environ["SECRET_KEY"]',
    "api_key: str | None = None",
    "self.token = token",
    'password = "changeme"',
    'api_key = "<your-api-key>"',
    "commit 3e4eb19a0c5d7e9f1b2a4c6d8e0f1a3b5c7d9e1f",
    "sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'",
    "the token is verified before the password reset email goes out",
    "Basic configuration of the token parser",
    "password_hash = make_password(password)",
    "token_type = 'refresh_token'",
    "AUTH_TOKEN_HEADER = 'X-Auth-Token'",
    'secret = "${{ secrets.DEPLOY_KEY }}"',
    "SECRET_ARN 'arn:aws:secretsmanager:us-east-2:123456789012:secret:dev/MyDatabase-AbCdEf';",
    "OAUTH_TOKEN_URI = 'https://api.tabular.io/ws/v1/oauth/tokens'",
    '"password" = "mysql_passwd",',
    'url = "ftp://anonymous:mail%40astropy.org@gdc.nasa.gov/pub/finals2000A.daily"',
    'f"http://{ENCODED_USER}:{ENCODED_PASSWORD}@request.com/url.html"',
]


@pytest.mark.parametrize("line", ORDINARY)
def test_ordinary_lines_are_not_redacted(line: str) -> None:
    assert redact(line) == line


@pytest.fixture
def linked_rules(make_repo: RepoMaker, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("b3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n")
    repo = make_repo({"AGENTS.md": "Root rules.", "src/app.py": "def run():\n    pass\n"})
    (repo / "CLAUDE.md").symlink_to(home / ".ssh" / "id_rsa")
    (repo / ".cursor" / "rules").mkdir(parents=True)
    (repo / ".cursor" / "rules" / "x.mdc").symlink_to("/etc/passwd")
    return repo


def test_rules_links_out_of_the_workspace_are_skipped_with_a_reason(linked_rules: Path) -> None:
    assert [r.path for r in find_rules(linked_rules)] == ["AGENTS.md"]
    result = build_context("run the app", linked_rules, budget=4000, embedder=None)
    system = result.pack.openai_messages()[0]["content"]
    assert "b3BlbnNzaC1rZXktdjEAAAAABG5vbmU" not in system and "root:" not in system
    skipped = {r.id: (r.status, r.reason) for r in result.pack.layers if r.id.startswith("rules:")}
    why = "condition not met: skipped: a symlink that leads outside the workspace root"
    assert skipped == {
        "rules:.cursor/rules/x.mdc": ("excluded", why),
        "rules:AGENTS.md": ("included", skipped["rules:AGENTS.md"][1]),
        "rules:CLAUDE.md": ("excluded", why),
    }

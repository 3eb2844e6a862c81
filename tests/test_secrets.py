"""One table of secret and not-secret file names and strings, run through every entry point.

``contextos.secrets`` decides; the walker (so the indexer), MCP ``read_file``, memory writes and
``mcp install`` must all agree with it. The table holds cases that only the shared definition
covers (``secrets.yaml``, ``id_rsa.pub``, ``.pgpass``, PGP key blocks, npm tokens, ``...APIKEY``),
so an entry point that went back to a list of its own fails here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from contextos.errors import UserInputError
from contextos.mcp_server.files import read_range
from contextos.mcp_server.install import plan_install
from contextos.memory import MemoryStore
from contextos.secrets import (
    find_memory_secrets,
    find_secrets,
    holds_private_key,
    is_secret_env,
    is_secret_file_name,
    redact,
    redact_memory,
)
from contextos.walk import text_files, walk
from contextos.workspace import Workspace
from tests.conftest import Backend, HashingEmbedder, RepoMaker

Kind = Literal["file name", "file content", "text", "env"]


@dataclass(frozen=True, slots=True)
class Case:
    """``kind`` says which entry points see ``value``: a file's name, a file's bytes (also memory
    text), memory text only, or an environment variable (``NAME=value``)."""

    kind: Kind
    value: str
    secret: bool


def _names(secret: bool, *names: str) -> list[Case]:
    return [Case("file name", name, secret) for name in names]


_KEY = "MIIEowIBAAKCAQEAx7Lr0Yh1\n"
TABLE: list[Case] = [
    *_names(
        True,
        ".env",
        ".env.local",
        ".env.example",
        ".ENV",
        "id_rsa",
        "id_rsa.pub",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        "id_ed25519_sk.pub",
        "server.pem",
        "SERVER.PEM",
        "tls.key",
        "server.crt",
        "ca.cer",
        "cert.der",
        "bundle.p12",
        "bundle.pfx",
        "app.jks",
        "release.keystore",
        "signing.asc",
        "vault.gpg",
        "client.ovpn",
        "passwords.kdbx",
        "credentials",
        "credentials.json",
        "secrets.yaml",
        "secrets.yml",
        "secret.json",
        "secrets.toml",
        ".netrc",
        ".npmrc",
        ".pypirc",
        ".pgpass",
        ".git-credentials",
        ".htpasswd",
        "terraform.tfstate",
        "terraform.tfstate.backup",
    ),
    *_names(
        False,
        "env.py",
        "environment.yml",
        ".env_sample.md",
        "keys.py",
        "keyboard.ts",
        "tokenizer.py",
        "credentials.py",
        "secrets_manager.py",
        "id_rsa_parser.go",
        "public_key.rs",
        "certs.md",
        "README.md",
    ),
    Case(
        "file content",
        f"-----BEGIN RSA PRIVATE KEY-----\n{_KEY}-----END RSA PRIVATE KEY-----",
        True,
    ),
    Case("file content", f"-----BEGIN OPENSSH PRIVATE KEY-----\n{_KEY}", True),
    Case("file content", f"-----BEGIN PRIVATE KEY-----\n{_KEY}-----END PRIVATE KEY-----", True),
    Case("file content", f"-----BEGIN ENCRYPTED PRIVATE KEY-----\n{_KEY}", True),
    Case("file content", f"-----BEGIN EC PRIVATE KEY-----\n{_KEY}", True),
    Case("file content", f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{_KEY}", True),
    Case("file content", f"-----BEGIN PUBLIC KEY-----\n{_KEY}-----END PUBLIC KEY-----", False),
    Case("file content", f"-----BEGIN CERTIFICATE-----\n{_KEY}-----END CERTIFICATE-----", False),
    Case("file content", "def load_private_key(path):\n    return read(path)", False),
    Case("text", "my openai key is sk-proj-abcdefghijklmnopqrstuvwxyz012345", True),
    Case("text", "export ANTHROPIC_API_KEY=sk-ant-api03-abcdefghijklmnopqrstuvwxyz", True),
    Case("text", "use AKIAABCDEFGHIJKLMNOP for the bucket", True),
    Case("text", "github token ghp_abcdefghijklmnopqrstuvwxyz0123456789", True),
    Case("text", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", True),
    Case("text", "gitlab glpat-abcdefghij0123456789xy", True),
    Case("text", "slack bot xoxb-1234567890-abcdefghij", True),
    Case("text", "maps key AIzaSyA-abcdefghijklmnopqrstuvwxyz01234", True),
    Case("text", "stripe sk_live_abcdefghijklmnop1234", True),
    Case("text", "hf_abcdefghijklmnopqrstuvwxyz0123456789 for the hub", True),
    Case("text", "publish with npm_abcdefghijklmnopqrstuvwxyz0123456789", True),
    Case("text", "pypi-AgEIcHlwaS5vcmcCJGFiY2RlZmdoLWlqa2wtbW5vcC1xcnN0LXV2d3h5ejAxMjM0", True),
    Case("text", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.dozjgNryP4J3jVmNHl0w5N", True),
    Case("text", "send Authorization: Bearer abcdefghijklmnopqrstuvwxyz123456", True),
    Case("text", "password=hunter2hunter2", True),
    Case("text", "the staging token is tok3n-abcdef99", True),
    Case("text", "the database is postgres://app:s3cretpw@db.internal/prod", True),
    Case("text", "The deploy script lives in ops/ship.sh", False),
    Case("text", "settings come from the .env file and id_rsa.pub is in ~/.ssh", False),
    Case("text", "the token is verified before the password reset email goes out", False),
    Case("text", "token counts use o200k; commit 3e4eb19a0c5d7e9f1b2a", False),
    Case("env", "CONTEXTOS_EMBED_API_KEY=abc", True),
    Case("env", "CONTEXTOS_TOKEN=abc", True),
    Case("env", "CONTEXTOS_DB_PASSWORD=abc", True),
    Case("env", "CONTEXTOS_OPENAI_APIKEY=abc", True),
    Case("env", "CONTEXTOS_CREDENTIALS=abc", True),
    Case("env", "CONTEXTOS_MODEL_BASE_URL=https://me:hunter2pw@proxy.internal/v1", True),
    Case("env", "CONTEXTOS_EXTRA=sk-proj-abcdefghijklmnopqrstuvwxyz012345", True),
    Case("env", "CONTEXTOS_MODEL=openai:gpt-4.1-mini", False),
    Case("env", "CONTEXTOS_OFFLINE=1", False),
    Case("env", "CONTEXTOS_KEYWORDS=8", False),
    Case("env", "CONTEXTOS_EMBED_BASE_URL=http://localhost:11434/v1", False),
]


def cases(*kinds: Kind) -> list[Case]:
    return [case for case in TABLE if case.kind in kinds]


def files_for(cases: list[Case]) -> dict[str, str]:
    """One file per case, each in its own directory: the case's name, or its content."""
    files = {}
    for n, case in enumerate(cases):
        if case.kind == "file name":
            files[f"c{n:02d}/{case.value}"] = "value = 1\n"
        else:
            files[f"c{n:02d}/notes.txt"] = f"some notes\n{case.value}\nmore notes\n"
    return files


def test_the_table_is_what_contextos_secrets_decides() -> None:
    decide = {
        "file name": is_secret_file_name,
        "file content": lambda v: holds_private_key(v.encode()),
        "text": lambda v: bool(find_secrets(v)),
        "env": lambda v: is_secret_env(*v.split("=", 1)),
    }
    assert [c for c in TABLE if decide[c.kind](c.value) != c.secret] == []
    assert [c for c in cases("file content") if bool(find_secrets(c.value)) != c.secret] == []


def test_the_walker_and_so_the_indexer_skip_every_secret_file(make_repo: RepoMaker) -> None:
    table = cases("file name", "file content")
    files = files_for(table)
    repo = make_repo(files)
    expected = sorted(p for p, c in zip(files, table, strict=True) if not c.secret)
    walked = walk(repo.resolve(), max_file_bytes=1 << 20)
    names_secret = sum(c.secret for c in cases("file name"))
    assert walked.skipped["secret"] == names_secret
    grep_sees = [f.rel for f in text_files(repo.resolve(), max_file_bytes=1 << 20)]
    assert grep_sees == expected
    with Workspace(repo, embedder=None) as ws:
        summary = ws.index()
        assert ws.indexed_paths() == expected
    assert summary.skipped["secret"] == sum(c.secret for c in table)


def test_mcp_read_file_refuses_every_secret_file(tmp_path: Path) -> None:
    table = cases("file name", "file content")
    files = files_for(table)
    for rel, content in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(content)
    served = []
    for rel, case in zip(files, table, strict=True):
        try:
            read_range(tmp_path, rel)
        except UserInputError as exc:
            assert case.secret, f"{rel}: {exc}"
            assert "looks like a secrets file" in str(exc) or "holds a private key" in str(exc)
        else:
            served.append(rel)
    assert served == [rel for rel, c in zip(files, table, strict=True) if not c.secret]


def test_read_file_refuses_a_private_key_outside_the_range_asked_for(tmp_path: Path) -> None:
    (tmp_path / "conf.py").write_text(
        "A = 1\nB = 2\n-----BEGIN PRIVATE KEY-----\nMIIEow\n-----END PRIVATE KEY-----\n"
    )
    for start, end in ((1, 1), (4, 4)):
        with pytest.raises(UserInputError, match=r"'conf\.py' holds a private key"):
            read_range(tmp_path, "conf.py", start, end)


@pytest.fixture
def store(backend: Backend) -> MemoryStore:
    s = backend.memory(embedder=HashingEmbedder())
    yield s  # type: ignore[misc]
    s.close()


@pytest.mark.parametrize(
    "case", cases("text", "file content"), ids=lambda c: f"{'secret' if c.secret else 'plain'}"
)
def test_memory_writes_refuse_or_redact_secret_text(store: MemoryStore, case: Case) -> None:
    if case.secret:
        with pytest.raises(UserInputError, match="looks like it contains a secret"):
            store.remember(case.value)
    else:
        assert store.remember(case.value).text == case.value
    (ingested,) = store.add_many([{"text": case.value}])
    assert ingested.text == (redact(case.value) if case.secret else case.value)
    assert find_secrets(ingested.text) == []
    assert ("[REDACTED:" in ingested.text) == case.secret


def test_mcp_install_never_writes_a_secret_variable(tmp_path: Path) -> None:
    environ = dict(case.value.split("=", 1) for case in cases("env"))
    (tmp_path / "project").mkdir()
    plan = plan_install(
        "claude", tmp_path / "project", project=False, home=tmp_path, environ=environ
    )
    written = json.loads(plan.new)["mcpServers"]["contextos"]["env"]
    assert sorted(written) == sorted(c.value.split("=")[0] for c in cases("env") if not c.secret)
    held_back = sorted(c.value.split("=")[0] for c in cases("env") if c.secret)
    (note,) = [n for n in plan.notes if "looks like a secret" in n]
    assert f"{', '.join(held_back)} (looks like a secret)" in note


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("the staging database password is hunter", ["stated-password"]),
        ("aws secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY for prod", ["aws-secret-key"]),
        ("the password is stored in the vault", []),
        ("fixed in commit 3f786850e387550fdab836ed7e6dc881de23001b", []),
        ("We use pytest, never unittest", []),
    ],
)
def test_memory_text_is_judged_by_the_prose_rules_too(text: str, kinds: list[str]) -> None:
    assert find_memory_secrets(text) == kinds
    assert ("[REDACTED:" in redact_memory(text)) == bool(kinds)
    assert find_secrets(text) == []  # files are not judged by the prose rules

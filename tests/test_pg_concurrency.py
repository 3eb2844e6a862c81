"""Many writers on one PostgreSQL store: processes remembering and editing at once lose nothing.

Each process (``multiprocessing`` spawn: a fresh interpreter, its own connection pool) writes its
own memories, the same shared ones as every other process, and, in turns with the others,
appends to one shared counter memory by editing its current version. Afterwards every memory
written is found exactly once (the shared ones too: the duplicate check runs under the write
lock), the counter holds every process's every append (no lost update: an edit of a version
another writer replaced meanwhile gets the "no longer current" error and retries on the new
head), and history is append-only."""

from __future__ import annotations

import multiprocessing
import os
import threading

import pytest

from contextos.errors import StoreError, UserInputError
from contextos.memory import Memory, MemoryStore

WRITERS = 4
EACH = 15


def write_and_edit(url: str, schema: str, name: str, n: int) -> int:
    """In a child process: ``n`` memories of its own and ``n`` appends to the shared counter;
    returns how many edits lost a race (and were retried)."""
    os.environ["CONTEXTOS_DATABASE_SCHEMA"] = schema
    races = 0
    with MemoryStore.open(database_url=url, owner=name) as store:
        for i in range(n):
            store.remember(f"fact {name} number {i}", tag=name, scope="project")
            store.remember(f"every writer says {i}", tag="shared", scope="project")
            while True:
                (head,) = store.memories(tag="counter")
                try:
                    store.edit(head.id, f"{head.text} {name}-{i}")
                    break
                except UserInputError as exc:
                    assert "no longer current" in str(exc)
                    races += 1
    return races


def test_processes_writing_at_once_lose_nothing(database_url: str) -> None:
    schema = os.environ["CONTEXTOS_DATABASE_SCHEMA"]
    with MemoryStore.open(database_url=database_url) as store:
        counter = store.remember("counter:", tag="counter", scope="project")
    names = [f"w{i}" for i in range(WRITERS)]
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(WRITERS) as pool:
        pool.starmap(write_and_edit, [(database_url, schema, n, EACH) for n in names])
    with MemoryStore.open(database_url=database_url, owner="reader") as store:
        for name in names:
            texts = sorted(m.text for m in store.memories(tag=name))
            assert texts == sorted(f"fact {name} number {i}" for i in range(EACH))
        shared = sorted(m.text for m in store.memories(tag="shared"))
        assert shared == sorted(f"every writer says {i}" for i in range(EACH))  # once each
        (head,) = store.memories(tag="counter")
        appended = head.text.split()[1:]
        assert sorted(appended) == sorted(f"{n}-{i}" for n in names for i in range(EACH))
        for name in names:  # each writer's appends in its own order
            assert [a for a in appended if a.startswith(f"{name}-")] == [
                f"{name}-{i}" for i in range(EACH)
            ]
        versions = store.memories(tag="counter", include_closed=True)
        assert len(versions) == 1 + WRITERS * EACH
        assert [v.id for v in versions if v.valid_to is None] == [head.id]
        history = store.history(counter.id)
        assert len(history) == 1 + 2 * WRITERS * EACH  # the ADD, then each UPDATE's two rows
        conn = store.connection
        for statement in ("UPDATE history SET reason = 'rewritten'", "DELETE FROM history"):
            with pytest.raises(StoreError, match="append-only"):
                conn.execute(statement)
        assert store.history(counter.id) == history


def edit_at_once(stores: list[MemoryStore], memory_id: str, text: str) -> list[object]:
    """Each store edits ``memory_id`` from its own thread, released together; what each got
    (the new version or the error)."""
    start = threading.Barrier(len(stores))
    results: list[object] = [None] * len(stores)

    def edit(i: int) -> None:
        start.wait()
        try:
            results[i] = stores[i].edit(memory_id, f"{text} ({i})")
        except UserInputError as exc:
            results[i] = exc

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_two_edits_of_the_same_version_at_once_one_wins(database_url: str) -> None:
    """Two stores (two pools, as two machines) edit the same current version at the same time,
    ten times over: exactly one edit supersedes it, the other gets the clear error."""
    with (
        MemoryStore.open(database_url=database_url, owner="a") as first,
        MemoryStore.open(database_url=database_url, owner="b") as second,
    ):
        memory = first.remember("The deploy window is Tuesday", scope="project")
        for round_ in range(10):
            results = edit_at_once([first, second], memory.id, f"The window is {round_}")
            errors = [r for r in results if isinstance(r, UserInputError)]
            (winner,) = [r for r in results if isinstance(r, Memory)]
            assert len(errors) == 1 and "no longer current" in str(errors[0])
            assert first.get(memory.id).superseded_by == winner.id
            memory = winner
        assert [m.id for m in second.memories(scope="project")] == [memory.id]


@pytest.mark.parametrize("pool_max", [10, 2])
def test_threads_sharing_one_store_as_the_mcp_server_does(
    database_url: str, pool_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One store, one pool, eight threads (each a user's view, as the HTTP MCP server's
    workers) remembering, recalling and editing at once: no error, nothing lost, no user sees
    another's memories; with fewer connections than threads they take turns."""
    monkeypatch.setenv("CONTEXTOS_DATABASE_POOL_MAX", str(pool_max))
    with MemoryStore.open(database_url=database_url, owner="server") as store:
        users = [store.as_owner(f"u{i}") for i in range(8)]
        failures: list[BaseException] = []
        start = threading.Barrier(len(users))

        def work(view: MemoryStore) -> None:
            try:
                start.wait()
                for n in range(12):
                    memory = view.remember(f"{view.owner} likes item {n}")
                    if n % 3 == 0:
                        view.edit(memory.id, f"{view.owner} likes item {n} a lot")
                    hits = view.recall(f"likes item {n}", k=20)
                    assert {h.memory.text.split()[0] for h in hits} == {view.owner}
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=work, args=(view,)) for view in users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert failures == []
        for view in users:
            texts = sorted(m.text for m in view.memories())
            assert texts == sorted(
                f"{view.owner} likes item {n}" + (" a lot" if n % 3 == 0 else "") for n in range(12)
            )

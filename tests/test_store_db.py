"""``store.db.connect`` is the one way a database is opened; racing openers of a new file."""

from __future__ import annotations

import threading
from pathlib import Path

from contextos.code.schema import MIGRATIONS
from contextos.store.db import connect


def test_processes_racing_to_create_one_database_all_open_it(tmp_path: Path) -> None:
    errors: list[str] = []
    for trial in range(30):
        path = tmp_path / f"new{trial}.db"

        def open_and_close(path: Path = path) -> None:
            try:
                connect(path, MIGRATIONS).close()
            except Exception as exc:  # the assertion below shows what went wrong
                errors.append(str(exc))

        threads = [threading.Thread(target=open_and_close) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []

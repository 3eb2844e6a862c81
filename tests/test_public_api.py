"""``import contextos`` is the front door for the four jobs, and opening it costs nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import contextos
from tests.conftest import RepoMaker

JOBS = {
    "index and search": {"Workspace", "SearchHit", "FileHit", "IndexSummary", "SearchConfig"},
    "remember and recall": {"MemoryStore", "Memory", "RecallHit"},
    "build a window": {"build_context", "ContextResult", "pack", "Layer", "Pack"},
    "count tokens": {"counter_for_model", "TokenCounter"},
    "settings and errors": {
        "Settings",
        "load_settings",
        "Chunk",
        "ContextosError",
        "ConfigError",
        "UserInputError",
        "PathOutsideRootError",
        "UnknownIdError",
        "StoreError",
        "EmbeddingError",
        "ModelError",
        "IndexCancelled",
    },
}


def test_the_exported_names_are_exactly_the_four_jobs_and_their_errors() -> None:
    expected = set().union(*JOBS.values())

    assert sorted(contextos.__all__) == sorted(expected)
    assert all(getattr(contextos, name) is not None for name in contextos.__all__)
    assert set(dir(contextos)) >= expected


def test_importing_contextos_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, contextos\n"
        "heavy = {'numpy', 'tree_sitter', 'pydantic', 'mcp', 'tiktoken', 'typer'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "[]"


def test_the_four_jobs_run_through_the_front_door(make_repo: RepoMaker, tmp_path: Path) -> None:
    repo = make_repo({"calc.py": "def add_numbers(a, b):\n    return a + b\n"})
    with contextos.Workspace(repo, embedder=None) as ws:
        ws.index()
        hit = ws.search("add numbers", k=1)[0]
    with contextos.MemoryStore.open(tmp_path / "memory.db") as memories:
        memories.remember("We ship on Tuesdays.", tag="release")
        recalled = memories.recall("when do we ship", k=1)[0]
    window = contextos.build_context("where are numbers added", repo, budget=2000, embedder=None)
    counter = contextos.counter_for_model("gpt-4.1")

    assert (hit.path, hit.symbol) == ("calc.py", "add_numbers")
    assert recalled.memory.text == "We ship on Tuesdays."
    assert window.pack.used <= 2000 and "add_numbers" in str(window.pack.openai_messages())
    assert counter.count("hello world") == 2


def test_the_readme_library_example_runs(make_repo: RepoMaker, isolated_home: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    parse = "def parse_config(text):\n    return dict(pair.split('=') for pair in text.split())\n"
    repo = make_repo({"config.py": parse})
    env = {**os.environ, "CONTEXTOS_HOME": str(isolated_home), "CONTEXTOS_EMBEDDER": "none"}

    ran = subprocess.run(
        [sys.executable, "-c", example.replace("path/to/repo", str(repo))],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0].startswith("config.py 1 2 parse_config")
    assert "We never mock the database in tests." in lines
    assert lines[-1] == "2"

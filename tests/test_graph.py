"""The file reference graph of an index, and personalised PageRank over it (on real indexes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from contextos import Workspace
from contextos.code.graph import RefGraph, build_graph, personalized_pagerank
from contextos.code.snapshots import Snapshots
from tests.conftest import RepoMaker


def _indexed(root: Path) -> Workspace:
    ws = Workspace(root, embedder=None)
    ws.index(embed=False, model="no")
    return ws


def _graph(make_repo: RepoMaker, files: dict[str, str | bytes]) -> RefGraph:
    with _indexed(make_repo(files)) as ws:
        return build_graph(ws.conn)


def _all_edges(graph: RefGraph) -> dict[str, dict[str, float]]:
    return {path: graph.out_edges(path) for path in graph.paths if graph.out_edges(path)}


APP = {
    "pkg/util.py": "def helper(x):\n    return x + 1\n\n\ndef ab():\n    return 2\n",
    "pkg/app.py": (
        "from pkg.util import helper, ab\n\n\n"
        "def first():\n    return helper(1) + ab()\n\n\n"
        "def second():\n    # helper() in a comment is no use\n    return helper(2)\n"
    ),
    "pkg/unrelated.py": "def standalone():\n    return 3\n",
    "web/client.js": "export function fetchUser(id) {\n  return id;\n}\n",
    "web/page.js": "import { fetchUser } from './client.js';\nfetchUser(1);\n",
    "README.md": "Call `helper()` or `fetchUser()`.\n",
}


def test_a_call_links_the_caller_to_the_file_defining_the_function(
    make_repo: RepoMaker,
) -> None:
    graph = _graph(make_repo, APP)
    assert graph.paths == sorted(APP)
    # helper is used by 3 of app.py's chunks (the imports, first, second): sqrt(3) / 1 definer;
    # page.js is one chunk; ab is shorter than 3 characters; README.md is prose
    assert _all_edges(graph) == {
        "pkg/app.py": {"pkg/util.py": pytest.approx(3**0.5)},
        "web/page.js": {"web/client.js": 1.0},
    }


def test_a_name_a_file_defines_means_its_own_definition(make_repo: RepoMaker) -> None:
    graph = _graph(
        make_repo,
        {
            "loop.py": "def again(n):\n    return again(n - 1) if n else other(n)\n",
            "other.py": "def other(n):\n    return again(n)\n\n\ndef again(n):\n    return n\n",
        },
    )
    assert (graph.sources != graph.targets).all()
    assert _all_edges(graph) == {"loop.py": {"other.py": 1.0}}


def test_names_defined_in_more_than_20_files_create_no_edges(make_repo: RepoMaker) -> None:
    files: dict[str, str | bytes] = {
        f"defs/m{i:02}.py": "def everywhere():\n    pass\n" + "def often():\n    pass\n" * (i < 20)
        for i in range(25)
    }
    files["use.py"] = "def main():\n    everywhere()\n    often()\n"
    graph = _graph(make_repo, files)
    assert _all_edges(graph) == {"use.py": {f"defs/m{i:02}.py": 1 / 20 for i in range(20)}}


def test_pagerank_is_a_distribution_uniform_on_a_symmetric_graph(make_repo: RepoMaker) -> None:
    graph = _graph(
        make_repo,
        {
            "a.py": "def alpha():\n    return beta()\n",
            "b.py": "def beta():\n    return gamma()\n",
            "c.js": "function gamma() {\n  return alpha();\n}\n",
        },
    )
    rank = personalized_pagerank(graph, {})
    assert rank == pytest.approx({"a.py": 1 / 3, "b.py": 1 / 3, "c.js": 1 / 3}, abs=1e-6)
    assert personalized_pagerank(graph, {"gone.py": 1.0, "a.py": 0.0}) == rank


def test_a_seed_ranks_what_it_depends_on_above_unrelated_files(make_repo: RepoMaker) -> None:
    graph = _graph(make_repo, APP)
    rank = personalized_pagerank(graph, {"pkg/app.py": 2.0})
    assert sum(rank.values()) == pytest.approx(1.0)
    assert set(rank) == set(APP)
    assert rank["pkg/app.py"] > rank["pkg/util.py"] > rank["pkg/unrelated.py"] == 0.0
    # util.py has no out-edges: its rank teleports back to the seed, never leaks elsewhere
    converged = personalized_pagerank(graph, {"pkg/app.py": 2.0}, iterations=500, tol=1e-12)
    assert converged["pkg/util.py"] == pytest.approx(0.85 * converged["pkg/app.py"])


def test_the_snapshot_graph_is_cached_until_the_index_changes(make_repo: RepoMaker) -> None:
    root = make_repo(APP)
    with _indexed(root) as ws:
        snapshots = Snapshots(ws.db_path)
        graph = snapshots.graph(ws.conn)
        assert snapshots.graph(ws.conn) is graph
        (root / "pkg/unrelated.py").write_text("def standalone():\n    return helper(3)\n")
        ws.index(embed=False, model="no")
        fresh = snapshots.graph(ws.conn)
    assert fresh is not graph
    assert fresh.out_edges("pkg/unrelated.py") == {"pkg/util.py": 1.0}
    assert graph.out_edges("pkg/unrelated.py") == {}

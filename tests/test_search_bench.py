"""Specification of the code-search benchmark's metric (semble's NDCG@10), its aggregation per
repository, the fixed tune/report split, and its command line (``benchmarks.search``)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks.search.bm25_chunks import code_tokens, document, window_chunks
from benchmarks.search.data import select_repos, split_of
from benchmarks.search.evaluate import RepoRun, evaluate_system
from benchmarks.search.metric import (
    Target,
    grouped_repo_means,
    hits_target,
    ndcg_at_k,
    parse_target,
    path_matches,
    repo_mean,
    repo_path,
)

REPOS_DEV = Path(__file__).resolve().parents[2] / "shared" / "bench" / "search" / "repos-dev.json"


def d(rank: int) -> float:
    """The discount of a 1-based rank."""
    return 1 / math.log2(rank + 1)


def test_targets_parse_from_a_path_or_a_line_range() -> None:
    assert parse_target("a/b.py") == Target("a/b.py")
    assert parse_target({"path": "a/b.py", "start_line": 3, "end_line": 9}) == Target(
        "a/b.py", 3, 9
    )


def test_paths_match_when_equal_or_one_is_a_slash_suffix_of_the_other() -> None:
    assert path_matches("src/flask/app.py", "src/flask/app.py")
    assert path_matches("src/XMonad/Core.hs", "Core.hs")
    assert path_matches("app.py", "src/flask/app.py")
    assert not path_matches("src/flask/myapp.py", "app.py")
    assert not path_matches("src/flask/app.py", "src/flask/sansio/app.py")
    assert repo_path("src/flask", "sansio/app.py") == "src/flask/sansio/app.py"
    assert repo_path(None, "gin.go") == "gin.go"


def test_a_chunk_hits_a_line_target_only_when_the_ranges_overlap() -> None:
    target = Target("a.py", 10, 20)
    assert hits_target(("a.py", 1, 10), target)
    assert hits_target(("a.py", 20, 30), target)
    assert hits_target(("a.py", 12, 14), target)
    assert not hits_target(("a.py", 1, 9), target)
    assert not hits_target(("a.py", 21, 40), target)
    assert not hits_target(("b.py", 10, 20), target)
    assert hits_target(("a.py", 500, 900), Target("a.py"))


def test_a_target_counts_once_at_the_first_chunk_that_hits_it() -> None:
    ranked = [("x.py", 1, 5), ("a.py", 1, 5), ("a.py", 6, 9), ("a.py", 10, 20)]
    assert ndcg_at_k(ranked, [Target("a.py")]) == pytest.approx(d(2) / d(1))


def test_secondary_targets_count_like_relevant_ones_and_ideal_uses_all_targets() -> None:
    ranked = [("a.py", 1, 5), ("z.py", 1, 5), ("b.py", 1, 5)]
    targets = [Target("a.py"), Target("b.py"), Target("c.py")]
    assert ndcg_at_k(ranked, targets) == pytest.approx((d(1) + d(3)) / (d(1) + d(2) + d(3)))


def test_two_targets_hit_first_by_one_chunk_make_one_hit() -> None:
    ranked = [("a.py", 1, 100), ("a.py", 101, 200)]
    targets = [Target("a.py", 10, 20), Target("a.py", 30, 40)]
    assert ndcg_at_k(ranked, targets) == pytest.approx(d(1) / (d(1) + d(2)))


def test_ideal_dcg_stops_at_ten_targets_and_only_the_top_ten_count() -> None:
    targets = [Target(f"f{i}.py") for i in range(12)]
    ranked = [(f"f{i}.py", 1, 2) for i in range(12)]
    assert ndcg_at_k(ranked, targets) == pytest.approx(1.0)
    late = [("x.py", 1, 2)] * 10 + [("f0.py", 1, 2)]
    assert ndcg_at_k(late, targets) == 0.0
    assert ndcg_at_k([], [Target("a.py")]) == 0.0
    assert ndcg_at_k([("a.py", 1, 2)], []) == 0.0


def test_means_are_per_repository_first_then_over_repositories() -> None:
    rows = [("big", 1.0), ("big", 1.0), ("big", 1.0), ("small", 0.0)]
    assert repo_mean(rows) == pytest.approx(0.5)
    assert math.isnan(repo_mean([]))
    grouped = grouped_repo_means(
        [
            ("symbol", "r1", 1.0),
            ("symbol", "r1", 0.0),
            ("symbol", "r2", 1.0),
            ("semantic", "r2", 0.2),
        ]
    )
    assert grouped == {"semantic": pytest.approx(0.2), "symbol": pytest.approx(0.75)}


def test_evaluate_system_matches_chunks_by_repository_path_and_scores_failures_zero() -> None:
    repos = [
        {"name": "flask", "language": "python", "benchmark_root": "src/flask"},
        {"name": "gin", "language": "go", "benchmark_root": None},
    ]
    queries = [
        {"qid": "f0", "repo": "flask", "language": "python", "category": "symbol",
         "relevant": ["src/flask/app.py"], "secondary": [], "query": "Flask"},
        {"qid": "g0", "repo": "gin", "language": "go", "category": "semantic",
         "relevant": ["gin.go"], "secondary": [], "query": "engine"},
    ]  # fmt: skip
    runs = {
        "flask": RepoRun(
            index_s=2.0, hits={"f0": [("app.py", 1, 9), ("app.py", 10, 20)]}, query_ms={"f0": 4.0}
        ),
        "gin": RepoRun(error="RuntimeError: boom"),
    }
    result = evaluate_system(runs, queries, repos)
    assert result["ndcg@10"] == 0.5
    assert result["ndcg@10_by_repo"] == {"flask": 1.0, "gin": 0.0}
    assert result["ndcg@10_by_category"] == {"semantic": 0.0, "symbol": 1.0}
    assert result["ndcg@10_by_language"] == {"go": 0.0, "python": 1.0}
    assert result["index_s_median"] == 2.0
    assert result["query_ms_p50"] == 4.0
    assert result["distinct_files_top10_mean"] == 0.5
    assert result["errors"] == {"gin": "RuntimeError: boom"}
    assert result["per_query"]["f0"] == {
        "ndcg@10": 1.0,
        "top10": [["app.py", 1, 9], ["app.py", 10, 20]],
        "query_ms": 4.0,
    }


def test_the_split_is_a_fixed_function_of_the_name() -> None:
    assert [split_of(n) for n in ("flask", "flask", "gin")] == [split_of("flask")] * 2 + [
        split_of("gin")
    ]
    repos = [{"name": n} for n in ("a", "b", "c", "d", "e", "f")]
    tune, report = select_repos(repos, "tune"), select_repos(repos, "report")
    assert sorted(r["name"] for r in tune + report) == ["a", "b", "c", "d", "e", "f"]
    assert all(split_of(r["name"]) == "tune" for r in tune)
    assert select_repos(repos, "all", ["c", "a"]) == [{"name": "a"}, {"name": "c"}]


DEV_NAMES = [
    "aiohttp", "flask", "model2vec", "requests", "express", "gin", "chi", "commons-lang",
    "laravel-framework", "rack", "tokio", "messagepack-csharp", "cats", "click", "zod", "axum",
    "dapper", "kotlinx-coroutines", "vapor", "plug", "fmtlib", "curl", "libuv", "aeson",
    "lazy.nvim", "nvm", "xmonad", "zig-clap",
]  # fmt: skip
"""The 28 repositories of the search dev set (names only), so the split test needs no data."""


def test_both_halves_of_the_dev_repositories_are_non_empty() -> None:
    repos = [{"name": n} for n in DEV_NAMES]
    tune, report = select_repos(repos, "tune"), select_repos(repos, "report")
    assert (len(tune), len(report)) == (13, 15)
    assert {"flask", "requests", "tokio"} <= {r["name"] for r in tune}
    if REPOS_DEV.is_file():  # the shared file, where present, names the same repositories
        shared = json.loads(REPOS_DEV.read_text(encoding="utf-8"))
        assert sorted(r["name"] for r in shared) == sorted(DEV_NAMES)


def test_code_tokens_keep_the_identifier_and_its_parts() -> None:
    assert code_tokens("getHTTPResponse my_func x2 simple") == [
        "gethttpresponse", "get", "http", "response", "my_func", "my", "func", "x2", "x", "2",
        "simple",
    ]  # fmt: skip


def test_a_bm25_document_is_the_text_then_the_stem_twice_and_the_last_three_dirs() -> None:
    assert document("a/b/c/d/mod.py", "x = 1") == "x = 1 mod mod b c d"
    assert document("gin.go", "package gin") == "package gin gin gin "


def test_window_chunks_overlap_and_cover_the_file(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("".join(f"line{i}\n" for i in range(1, 101)))
    spans = [(s, e) for _, s, e, _ in window_chunks(tmp_path, ["a.py"])]
    assert spans == [(1, 50), (41, 90), (81, 100)]


def test_help_works() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.search", "--help"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "--split" in proc.stdout and "--no-index-timing" in proc.stdout

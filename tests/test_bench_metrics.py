"""Specification of the benchmarks' shared metrics and tree helpers (``benchmarks.common``), and
of the benchmark commands ``docs/benchmarks.md`` shows."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks.common import metrics, trees

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"


def test_all_gold_rank_is_the_rank_where_the_last_gold_file_appears() -> None:
    ranked = ["a.py", "b.py", "c.py", "d.py"]
    assert metrics.all_gold_rank(ranked, ["c.py", "a.py"]) == 3
    assert metrics.all_gold_rank(ranked, ["b.py"]) == 2


def test_all_gold_rank_is_none_when_any_gold_file_is_missing_or_there_is_no_gold() -> None:
    assert metrics.all_gold_rank(["a.py", "b.py"], ["a.py", "z.py"]) is None
    assert metrics.all_gold_rank(["a.py"], []) is None
    assert metrics.all_gold_rank([], ["a.py"]) is None


def test_first_gold_rank_is_the_first_hit() -> None:
    assert metrics.first_gold_rank(["a.py", "b.py", "c.py"], ["c.py", "b.py"]) == 2
    assert metrics.first_gold_rank(["a.py"], ["z.py"]) is None


def test_acc_at_k_counts_misses_in_the_denominator() -> None:
    ranks = [1, 3, None, 7]
    assert [metrics.acc_at_k(ranks, k) for k in (1, 3, 5, 10)] == [25.0, 50.0, 50.0, 75.0]
    assert metrics.acc_at_k([], 5) == 0.0


def test_mrr_scores_a_miss_as_zero() -> None:
    assert metrics.mrr([1, 2, None, 4]) == pytest.approx((1 + 0.5 + 0 + 0.25) / 4)
    assert metrics.mrr([]) == 0.0


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 50, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([4.0, 1.0, 3.0, 2.0], 0, 1.0),
        ([4.0, 1.0, 3.0, 2.0], 100, 4.0),
        ([float(v) for v in range(1, 21)], 95, 19.05),
    ],
)
def test_percentile_interpolates_like_numpy(values: list[float], q: float, expected: float) -> None:
    assert metrics.percentile(values, q) == pytest.approx(expected)


def test_percentile_of_nothing_is_nan_and_q_is_checked() -> None:
    assert math.isnan(metrics.percentile([], 50))
    with pytest.raises(ValueError):
        metrics.percentile([1.0], 101)


def test_summarise_rounds_percentages_and_reports_no_latency_without_queries() -> None:
    assert metrics.summarise([1, 2, None], [1, 1, None], [1.004, 2.0], []) == {
        "acc@1": 33.3,
        "acc@3": 66.7,
        "acc@5": 66.7,
        "acc@10": 66.7,
        "mrr": 0.6667,
        "index_s_total": 3.0,
        "query_ms_p50": None,
        "query_ms_p95": None,
    }


def test_aggregate_counts_a_failed_instance_as_a_miss_without_timings() -> None:
    rows = [
        {
            "ranks": {"a": 1},
            "first_ranks": {"a": 1},
            "index_s": {"a": 2.0},
            "query_ms": {"a": 10.0},
            "errors": {},
        },
        {
            "ranks": {"a": None},
            "first_ranks": {"a": None},
            "index_s": {},
            "query_ms": {},
            "errors": {"a": "RuntimeError: boom"},
        },
    ]
    assert metrics.aggregate(rows, ["a"]) == {
        "a": {
            "acc@1": 50.0,
            "acc@3": 50.0,
            "acc@5": 50.0,
            "acc@10": 50.0,
            "mrr": 0.5,
            "index_s_total": 2.0,
            "query_ms_p50": 10.0,
            "query_ms_p95": 10.0,
            "n": 2,
            "errors": 1,
        }
    }


@pytest.mark.parametrize(
    ("path", "is_test"),
    [
        ("sympy/core/tests/test_basic.py", True),
        ("testing/python/collect.py", True),
        ("src/_pytest/python.py", False),
        ("pkg/test_utils.py", True),
        ("pkg/utils_test.py", True),
        ("conftest.py", True),
        ("sympy/testing/runtests.py", True),
        ("pkg/latest.py", False),
        ("docs/test_notes.rst", False),
        ("tests.py", False),
    ],
)
def test_is_test_path(path: str, is_test: bool) -> None:
    assert trees.is_test_path(path) is is_test


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def test_materialise_extracts_a_commit_once_and_walk_lists_text_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "pkg").mkdir()
    (repo / "pkg" / "mod.py").write_text("x = 1\n")
    (repo / "README.md").write_text("# hi\n")
    (repo / "logo.png").write_bytes(b"\x89PNG")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    sha = _git(repo, "rev-parse", "HEAD")

    dest = tmp_path / "trees" / "one"
    assert trees.materialise(repo / ".git", sha, dest) == (True, [])
    assert trees.materialise(repo / ".git", sha, dest) == (False, [])
    assert trees.walk_text_files(dest) == ["README.md", "pkg/mod.py"]
    assert not dest.with_name("one.part").exists()


def test_materialise_skips_blobs_the_mirror_lacks_and_names_them(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / "run.sh").write_text("echo hi\n")
    (repo / "run.sh").chmod(0o755)
    (repo / "data" / "big.bin").write_bytes(b"\x00" * 100)
    (repo / "link").symlink_to("run.sh")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    sha = _git(repo, "rev-parse", "HEAD")
    blob = _git(repo, "rev-parse", "HEAD:data/big.bin")
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()

    dest = tmp_path / "tree"
    assert trees.materialise(repo / ".git", sha, dest) == (True, ["data/big.bin"])
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")) == ["link", "run.sh"]
    assert (dest / "link").readlink() == Path("run.sh")
    assert (dest / "run.sh").stat().st_mode & 0o111


def test_materialise_of_an_unknown_commit_raises_and_leaves_nothing(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    dest = tmp_path / "trees" / "bad"
    with pytest.raises(RuntimeError, match="cannot extract"):
        trees.materialise(repo / ".git", "0" * 40, dest)
    assert not dest.exists() and not dest.with_name("bad.part").exists()


def _documented_modules() -> list[str]:
    """Every ``python -m benchmarks.X`` module docs/benchmarks.md names, in order."""
    found = re.findall(r"python -m (benchmarks(?:\.\w+)+)", DOC.read_text(encoding="utf-8"))
    return list(dict.fromkeys(found))


def test_the_benchmarks_doc_runs_every_benchmark_as_a_module() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert not re.findall(r"benchmarks/[\w/]+\.py", text), "name modules, not files"
    assert set(_documented_modules()) >= {
        "benchmarks.localize",
        "benchmarks.localize.tune",
        "benchmarks.pack",
        "benchmarks.pack.speed",
        "benchmarks.locomo",
        "benchmarks.locomo.memory_recall",
        "benchmarks.micro.embed_throughput",
        "benchmarks.micro.tokens_throughput",
        "benchmarks.micro.search_latency",
        "benchmarks.micro.vector_store",
        "benchmarks.micro.incremental",
        "benchmarks.startup",
    }


@pytest.mark.parametrize("module", _documented_modules())
def test_every_documented_benchmark_command_answers_help(module: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: python -m {module} ")

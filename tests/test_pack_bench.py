"""Specification of the packing benchmark's gold check and budget accounting
(``benchmarks.pack``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks.pack import gold as gold_mod
from benchmarks.pack import harness as bench
from benchmarks.pack import repomap, report, systems

from contextos import Workspace
from contextos.context import Excerpt, counter_for, merge_hits, pack, quoted
from contextos.context.report import SEPARATOR
from contextos.context.sources import code_layers
from contextos.types import SearchHit

COUNTER = counter_for("gpt-4.1")

SOURCE = '''"""Prices."""

import math


# The tax rate, applied to every line.
RATE = 0.2


class Cart:
    """A shopping cart."""

    def __init__(self):
        self.items = []

    # Sum of the line prices, before tax.
    @property
    def subtotal(self):
        total = 0

        for item in self.items:
            total += item.price
        return total

    def total(self):
        return math.ceil(self.subtotal * (1 + RATE))


def helper(x):
    return x + 1
'''
LINES = gold_mod.file_lines(SOURCE)


def _line(text: str) -> int:
    return next(i for i, line in enumerate(LINES, start=1) if line.strip() == text)


def _hit(start: int, end: int, symbol: str | None = None, path: str = "shop/cart.py") -> SearchHit:
    text = "\n".join(LINES[start - 1 : end])
    return SearchHit(path, start, end, 1.0, symbol, "method", "python", text)


def _rendered(excerpts: list[Excerpt]) -> str:
    return SEPARATOR.join(layer.render(layer.body()) for layer in code_layers(excerpts))


ROW = {
    "gold_files": ["shop/cart.py"],
    "expected_spans": {"shop/cart.py": ["Cart.subtotal"]},
}


def test_gold_span_is_the_whole_definition_with_its_comments_and_decorators() -> None:
    start, end = gold_mod.locate("shop/cart.py", SOURCE, "Cart.subtotal")
    assert (start, end) == (_line("# Sum of the line prices, before tax."), _line("return total"))
    assert gold_mod.locate("shop/cart.py", SOURCE, "Cart") == (_line("class Cart:"), end + 3)
    assert gold_mod.locate("shop/cart.py", SOURCE, "Cart.missing") is None


def test_pseudo_and_absent_symbols_only_require_the_file() -> None:
    row = {
        "gold_files": ["shop/cart.py"],
        "expected_spans": {"shop/cart.py": ["imports", "impl:3", "Cart:12", "Cart.added_by_fix"]},
    }
    gold = gold_mod.gold_for(row, {"shop/cart.py": SOURCE})
    assert gold.spans == ()
    assert gold.pseudo == ("shop/cart.py::imports", "shop/cart.py::impl:3", "shop/cart.py::Cart:12")
    assert gold.unresolved == ("shop/cart.py::Cart.added_by_fix",)
    packed = _rendered(merge_hits([_hit(_line("def helper(x):"), len(LINES), "helper")]))
    assert gold_mod.gold_met(gold, gold_mod.covered_lines(packed, gold.file_texts))
    assert not gold_mod.gold_met(gold, gold_mod.covered_lines("", gold.file_texts))


def test_span_is_inside_when_every_non_blank_line_is_packed_under_its_true_header() -> None:
    gold = gold_mod.gold_for(ROW, {"shop/cart.py": SOURCE})
    (span,) = gold.spans
    whole = _rendered(merge_hits([_hit(span.start, span.end, "Cart.subtotal")]))
    assert gold_mod.gold_met(gold, gold_mod.covered_lines(whole, gold.file_texts))
    # the same lines, in two hits that meet inside the method, merge into one covered range
    halves = [_hit(span.start, span.start + 3), _hit(span.start + 4, span.end)]
    assert gold_mod.gold_met(
        gold, gold_mod.covered_lines(_rendered(merge_hits(halves)), gold.file_texts)
    )


def test_span_missing_a_line_or_under_a_wrong_header_is_not_inside() -> None:
    gold = gold_mod.gold_for(ROW, {"shop/cart.py": SOURCE})
    (span,) = gold.spans
    short = _rendered(merge_hits([_hit(span.start, span.end - 1)]))
    covered = gold_mod.covered_lines(short, gold.file_texts)
    assert covered["shop/cart.py"] and not gold_mod.gold_met(gold, covered)
    shifted = short.replace(f"shop/cart.py:{span.start}-", f"shop/cart.py:{span.start + 2}-")
    assert not gold_mod.gold_met(gold, gold_mod.covered_lines(shifted, gold.file_texts))
    other = _rendered(merge_hits([_hit(span.start, span.end, path="shop/other.py")]))
    assert gold_mod.covered_lines(other, gold.file_texts) == {}


def test_a_layer_shrunk_by_the_packer_loses_the_gold_it_cut() -> None:
    gold = gold_mod.gold_for(ROW, {"shop/cart.py": SOURCE})
    layers = code_layers(merge_hits([_hit(1, len(LINES))]))
    roomy = pack(layers, 2000, COUNTER)
    tight = pack(layers, 140, COUNTER)  # code layers shrink to no less than 128 tokens
    assert tight.layers[0].status == "truncated"
    for result, expected in ((roomy, True), (tight, False)):
        text = systems.Packed.of(result).text
        assert gold_mod.gold_met(gold, gold_mod.covered_lines(text, gold.file_texts)) is expected


def test_pack_code_charges_wrappers_headers_and_separators_and_skips_what_does_not_fit() -> None:
    big = _hit(_line("class Cart:"), _line("return math.ceil(self.subtotal * (1 + RATE))"), "Cart")
    small = _hit(_line("def helper(x):"), len(LINES), "helper", path="shop/util.py")
    blocks = [layer.render(layer.body()) for layer in code_layers(merge_hits([big, small]))]
    assert blocks[1].startswith("<<<DATA ") and blocks[1].endswith(">>>END DATA " + blocks[1][8:20])
    both = systems.pack_code([big, small], 10_000, COUNTER)
    assert both.text == SEPARATOR.join(blocks)
    assert both.used == sum(COUNTER.count(block + SEPARATOR) for block in blocks)
    assert [status for _, status, _ in both.layers] == ["included", "included"]
    one = COUNTER.count(blocks[1] + SEPARATOR)
    only_small = systems.pack_code([big, small], one, COUNTER)
    assert only_small.used == one
    assert [lid for lid, _, _ in only_small.layers] == ["code:shop/util.py"]
    assert systems.pack_code([big, small], one - 1, COUNTER).used == 0


def test_pack_files_takes_whole_files_in_rank_order_skipping_one_that_does_not_fit() -> None:
    files = [
        systems.whole_file("a.py", "python", LINES, 1),
        systems.whole_file("b.py", "python", ["x = 1"] * 400, 2),
        systems.whole_file("c.py", "python", LINES[:5], 3),
    ]
    costs = [systems.layer_cost(layer, COUNTER) for layer in code_layers(files)]
    budget = costs[0] + costs[2] + 10
    packed = systems.pack_files(files, budget, COUNTER)
    assert [lid for lid, status, _ in packed.layers] == ["code:a.py", "code:c.py"]
    assert packed.used == costs[0] + costs[2] <= budget


@pytest.fixture
def indexed(tmp_path: Path) -> Iterator[Workspace]:
    root = tmp_path / "repo"
    files = {
        "shop/cart.py": SOURCE,
        "shop/checkout.py": "from shop.cart import Cart\n\n\ndef checkout(cart):\n"
        "    return Cart().total() + len(cart.items)\n",
        "shop/report.py": "def weekly_report(rows):\n    return sorted(rows)\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    with Workspace(root, db_path=tmp_path / "ws.db", embedder=None) as ws:
        ws.index()
        yield ws


def test_repo_map_fits_the_budget_and_lists_the_queried_definition_first(
    indexed: Workspace,
) -> None:
    paths = indexed.indexed_paths()
    repo_map = repomap.build_repo_map(
        "weekly_report sorts wrongly", indexed.root, indexed.conn, paths
    )
    assert repo_map.entries[0] == ("shop/report.py", "weekly_report")
    wrap = quoted("repository map")
    cost = lambda text: COUNTER.count(wrap(text) + SEPARATOR)  # noqa: E731
    text, used, files, listed = repo_map.fit(10_000, cost)
    assert used == cost(text) <= 10_000
    assert files == set(paths)
    assert ("shop/cart.py", "Cart.subtotal") in listed
    assert ("shop/cart.py", "helper") not in listed  # defined, never used: not in the graph
    assert "shop/cart.py:\n│class Cart:\n│    def subtotal(self):\n│    def total(self):" in text
    assert text.endswith("shop/checkout.py:")  # a file whose definitions nobody uses: bare
    small = repo_map.fit(cost(repo_map.render(1)[0]), cost)
    assert small[2] == {"shop/report.py"} and small[1] <= cost(repo_map.render(1)[0])
    assert repo_map.fit(5, cost)[:3] == ("", 0, set())


def test_targets_compare_contextos_with_both_baselines_at_4k_and_8k() -> None:
    figures = {
        "contextos": {"gold_in_budget@4k": 50.0, "gold_in_budget@8k": 60.0},
        "bm25-files": {"gold_in_budget@4k": 35.0, "gold_in_budget@8k": 50.0},
        "repo-map": {"gold_in_budget@4k": 40.0, "gold_in_budget@8k": 61.0},
    }
    assert report.targets(figures) == {
        "4k": {"contextos_minus_bm25": 15.0, "vs_bm25_met": True, "vs_repo_map_met": True},
        "8k": {"contextos_minus_bm25": 10.0, "vs_bm25_met": False, "vs_repo_map_met": False},
    }


def test_figures_are_percentages_of_all_instances_and_a_failed_system_misses() -> None:
    def row(gold: bool | None) -> dict[str, object]:
        budgets = {b: {"gold": gold, "used": n // 2} for b, n in report.BUDGETS.items()}
        return {"systems": {} if gold is None else {"bm25-files": budgets}, "seconds": {}}

    (figures,) = report.aggregate(
        [row(True), row(False), row(None), row(True)], ["bm25-files"]
    ).values()
    assert figures["gold_in_budget@4k"] == 50.0
    assert figures["used_pct@16k"] == 50.0
    assert figures["errors"] == 1


def test_the_cli_knows_its_systems() -> None:
    args = ["--instances", "i.jsonl", "--mirrors", "m", "--out", "o.json"]
    assert bench.parse_args(args).systems == list(bench.SYSTEMS)
    with pytest.raises(SystemExit):
        bench.parse_args([*args, "--systems", "contextos,grep"])

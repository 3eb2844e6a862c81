"""Search: code-aware lexical matching, fusion with vectors, mentions, tests down-ranked."""

from __future__ import annotations

from pathlib import Path

import pytest

from contextos import FileHit, SearchConfig, UserInputError, Workspace
from tests.conftest import HashingEmbedder, RepoMaker

FILES = {
    "shop/cart.py": (
        "class ShoppingCart:\n"
        "    def add_item(self, item, quantity=1):\n"
        "        self.items.append((item, quantity))\n\n"
        "    def total_price(self):\n"
        "        return sum(i.price * q for i, q in self.items)\n"
    ),
    "shop/payment.py": (
        "def charge_credit_card(card, amount):\n"
        "    if amount <= 0:\n"
        "        raise ValueError('amount must be positive')\n"
        "    return gateway.charge(card, amount)\n"
    ),
    "shop/http/parseResponse.ts": (
        "export function parseHttpResponse(raw: string): Response {\n"
        "  const [head, body] = raw.split('\\r\\n\\r\\n');\n"
        "  return { head, body };\n"
        "}\n"
    ),
    "tests/test_cart.py": (
        "from shop.cart import ShoppingCart\n\n"
        "def test_total_price():\n"
        "    cart = ShoppingCart()\n"
        "    cart.add_item(item, 2)\n"
        "    assert cart.total_price() == 4\n"
    ),
    "docs/guide.md": "# Guide\n\nThe shopping cart computes a total price.\n",
}


@pytest.fixture
def ws(make_repo: RepoMaker) -> Workspace:
    workspace = Workspace(make_repo(FILES), embedder=HashingEmbedder())
    workspace.index()
    return workspace


def test_snake_and_camel_case_parts_match(ws: Workspace) -> None:
    assert ws.search("http response parse", k=1)[0].path == "shop/http/parseResponse.ts"
    assert ws.search("credit card charge", k=1)[0].symbol == "charge_credit_card"


def test_tests_are_down_ranked_unless_the_query_is_about_tests(ws: Workspace) -> None:
    files = [h.path for h in ws.search("ShoppingCart total_price", files=True)]
    assert files[0] == "shop/cart.py"
    assert files.index("tests/test_cart.py") > files.index("shop/cart.py")
    about_tests = [h.path for h in ws.search("failing test for total_price", files=True, k=2)]
    assert "tests/test_cart.py" in about_tests


def test_traceback_paths_and_frames_point_to_the_file(ws: Workspace) -> None:
    issue = (
        "Checkout crashes when the amount is zero.\n\n"
        "Traceback (most recent call last):\n"
        '  File "/home/u/venv/lib/python3.11/site-packages/shop/payment.py", line 3, in '
        "charge_credit_card\n"
        "ValueError: amount must be positive\n" + "We tried many things. " * 200
    )
    hits = ws.search(issue, k=3, files=True)
    assert hits[0].path == "shop/payment.py"
    assert isinstance(hits[0], FileHit)
    assert hits[0].chunks and hits[0].chunks[0].symbol == "charge_credit_card"


def test_mentioned_symbol_outranks_prose_overlap(ws: Workspace) -> None:
    hits = ws.search("the guide says add_item should accept a quantity", files=True, k=2)
    assert hits[0].path == "shop/cart.py"


def test_modes_and_results_are_typed(ws: Workspace) -> None:
    for mode in ("hybrid", "lexical", "dense"):
        hits = ws.search("charge credit card amount", k=2, mode=mode)
        assert hits and hits[0].path == "shop/payment.py", mode
        assert 1 <= hits[0].start_line <= hits[0].end_line


def test_config_weights_change_the_ranking(ws: Workspace) -> None:
    only_dense = SearchConfig(w_file_bm25=0, w_chunk_bm25=0, w_mention=0)
    hits = ws.search("total price", k=5, files=True, config=only_dense)
    assert {h.path for h in hits} <= set(FILES)


def test_bad_queries_are_clear_errors(ws: Workspace) -> None:
    with pytest.raises(UserInputError, match="empty query"):
        ws.search("   ")
    with pytest.raises(UserInputError, match="k must be"):
        ws.search("x", k=0)
    with pytest.raises(UserInputError, match="unknown search mode"):
        ws.search("x", mode="fuzzy")  # type: ignore[call-overload]


def test_query_with_only_unknown_words_returns_nothing_without_error(ws: Workspace) -> None:
    assert ws.search("zzqx wvvy", mode="lexical") == []


def test_lexical_only_workspace_searches(make_repo: RepoMaker, tmp_path: Path) -> None:
    with Workspace(make_repo(FILES), embedder=None) as ws:
        ws.index()
        assert ws.search("charge credit card", k=1)[0].path == "shop/payment.py"
        assert ws.status()["embedder"] == "none"


def test_changelog_and_prose_priors_scale_file_scores(make_repo: RepoMaker) -> None:
    files = {
        "CHANGES.rst": "Fixed charge_credit_card rounding. Fixed charge_credit_card refunds.\n" * 5,
        "shop/payment.py": FILES["shop/payment.py"],
    }
    with Workspace(make_repo(files), embedder=None) as ws:
        ws.index()
        neutral = SearchConfig(prose_penalty=1.0, changelog_penalty=1.0, w_mention=0.0)
        damped = SearchConfig(prose_penalty=1.0, changelog_penalty=0.2, w_mention=0.0)
        query = "charge_credit_card rounding refunds"
        assert ws.search(query, files=True, config=neutral)[0].path == "CHANGES.rst"
        assert ws.search(query, files=True, config=damped)[0].path == "shop/payment.py"


def test_an_edited_file_is_found_after_reindex_in_this_and_a_new_process(
    make_repo: RepoMaker,
) -> None:
    repo = make_repo({"a.py": "def old_name():\n    pass\n", "b.py": "x = 1\n"})
    with Workspace(repo, embedder=None) as ws:
        ws.index()
        assert ws.search("old_name", k=1)[0].path == "a.py"
        (repo / "b.py").write_text("def brand_new_helper():\n    return 2\n")
        ws.index()
        assert ws.search("brand_new_helper", k=1)[0].path == "b.py"
    with Workspace(repo, embedder=None) as fresh:
        assert fresh.search("brand_new_helper", k=1)[0].path == "b.py"


def test_asking_for_more_chunks_than_the_candidate_depth_widens_every_ranking(
    make_repo: RepoMaker,
) -> None:
    files = {f"m{i}.py": f"def invoice_total_{i}(x):\n    return x * {i}\n" for i in range(30)}
    with Workspace(make_repo(files), embedder=None) as ws:
        ws.index()
        shallow = SearchConfig(candidates=5)
        assert len(ws.search("invoice total", k=25, config=shallow)) == 25
        assert len(ws.search("invoice total", k=25, files=True, config=shallow)) == 25


def test_tied_files_rank_the_same_whatever_the_hash_seed(make_repo: RepoMaker) -> None:
    """Files that tie on every ranking (here: each defines the symbols the query names) come
    back in one order in every process; set iteration order must not leak into the ranking."""
    import json
    import os
    import subprocess
    import sys

    files = {f"pkg/mod{i}.py": "def parse_invoice_total(x):\n    return x\n" for i in range(12)}
    repo = make_repo(files)
    with Workspace(repo, embedder=None) as ws:
        ws.index()
    code = (
        "import json, sys\n"
        "from contextos import Workspace\n"
        "with Workspace(sys.argv[1], embedder=None) as ws:\n"
        "    hits = ws.search('parse_invoice_total fails', k=12, files=True, mode='lexical')\n"
        "print(json.dumps([h.path for h in hits]))\n"
    )
    orders = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code, str(repo)], env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        orders.add(tuple(json.loads(out.stdout)))
    assert len(orders) == 1 and len(next(iter(orders))) == 12

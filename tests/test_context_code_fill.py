"""Code in the window: whole search hits, best first, in the room the other layers leave."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from contextos.code.chunking import chunk_file
from contextos.context import assemble, counter_for, merge_hits, pack
from contextos.context.builder import CODE_SHARE, SessionView
from contextos.context.code_fill import code_depth, select_code
from contextos.context.report import SEPARATOR
from contextos.context.session import Event
from contextos.types import SearchHit

COUNTER = counter_for("gpt-4.1")


def function(name: str, lines: int) -> str:
    body = "".join(f"    value_{i} = compute_{name}({i}, limit={i * 7})\n" for i in range(lines))
    return f"def {name}(x):\n{body}    return x\n"


def hits_of(path: str, source: str) -> list[SearchHit]:
    return [
        SearchHit(path, c.start_line, c.end_line, 1.0, c.symbol, c.kind, c.language, c.text)
        for c in chunk_file(path, source)
    ]


SOURCES = {
    f"pkg/mod_{m}.py": "\n\n".join(
        function(f"f{m}_{j}", 3 + (m * 7 + j * 5) % 40) for j in range(4)
    )
    for m in range(6)
}


def windows(hit: SearchHit) -> list[SearchHit]:
    """Line windows overlapping and touching a hit, as a search over windows returns them."""
    from dataclasses import replace

    lines = hit.text.split("\n")
    head = replace(hit, end_line=hit.start_line + 1, text="\n".join(lines[:2]), kind="window")
    after = replace(hit, start_line=hit.end_line + 1, end_line=hit.end_line + 1, text="")
    return [head, replace(after, symbol=None, kind="window")]


CHUNKS = [h for path, text in SOURCES.items() for h in hits_of(path, text)]
HITS = CHUNKS + [w for h in CHUNKS[::3] for w in windows(h)]


def whole_cost(layer_text: str) -> int:
    return COUNTER.count(layer_text + SEPARATOR)


def reference(hits: list[SearchHit], room: int) -> list[tuple[str, str, int]]:
    """The selection rule written plainly: re-render and count a file's whole layer per trial."""
    from contextos.context.code_fill import consecutive
    from contextos.context.sources import code_layers

    chosen: dict[str, list[SearchHit]] = {}
    cost: dict[str, int] = {}
    used = 0
    for hit in hits:
        if room - used < 8:
            break
        if not consecutive(hit):
            continue
        trial = [*chosen.get(hit.path, []), hit]
        layer = code_layers(merge_hits(trial))[0]
        new = whole_cost(layer.render(layer.body()))
        if used + new - cost.get(hit.path, 0) <= room:
            used += new - cost.get(hit.path, 0)
            chosen[hit.path], cost[hit.path] = trial, new
    kept = {id(h) for trial in chosen.values() for h in trial}
    layers = code_layers(merge_hits([h for h in hits if id(h) in kept]))
    return [(x.id, x.body(), cost[x.id.removeprefix("code:")]) for x in layers]


@settings(max_examples=40)  # each example counts tokens of whole packs: costly
@given(st.integers(0, 3000), st.permutations(range(len(HITS))))
def test_chosen_code_fits_its_room_whole_and_packs_unshrunk(room: int, order: list[int]) -> None:
    ranked = [HITS[i] for i in order]
    layers = select_code(ranked, room, COUNTER)
    assert [(x.id, x.body(), x.min_tokens) for x in layers] == reference(ranked, room)
    costs = [whole_cost(x.render(x.body())) for x in layers]
    assert sum(costs) <= room
    assert [x.min_tokens for x in layers] == costs  # pinned: kept whole or dropped
    result = pack(layers, max(room, 1), COUNTER)
    assert all(r.cause == "fit" for r in result.layers)
    # best first: the best hit is chosen whenever its file's layer alone fits
    best = ranked[0]
    alone = select_code([best], room, COUNTER)
    if alone:
        assert layers[0].id == f"code:{best.path}"
        assert best.text in layers[0].body()


def test_a_hit_too_big_for_what_is_left_is_skipped_for_smaller_ones() -> None:
    big = hits_of("big.py", function("huge", 200))[0]
    small = hits_of("small.py", function("tiny", 1))[0]
    layers = select_code([big, small], 300, COUNTER)
    assert [x.id for x in layers] == ["code:small.py"]


def test_class_outlines_are_left_out_and_never_misnumber_lines() -> None:
    source = (
        "class Cart:\n"
        '    """A cart."""\n'
        "    rate = 3\n"
        "\n"
        "    def total(self, items):\n"
        "        return sum(items)\n"
        "\n"
        "    def empty(self):\n"
        "        return []\n"
    )
    hits = hits_of("cart.py", source)
    outline = next(h for h in hits if h.kind == "class")
    assert outline.text.count("\n") != outline.end_line - outline.start_line
    layers = select_code(hits, 2000, COUNTER)
    assert "cart.py:1-" not in layers[0].body()  # the outline did not become lines 1..n
    lines = source.split("\n")
    merged = merge_hits(hits)[0]
    for span in merged.spans:
        assert list(span.lines) == lines[span.start - 1 : span.end], span


def test_depth_grows_with_large_budgets_only() -> None:
    assert code_depth(2000) == code_depth(15_000) == 300 and code_depth(16_000) == 320
    assert code_depth(128_000) == 2560


def test_code_gets_its_share_even_when_history_fills_the_window() -> None:
    output = "FAILED test_total - assert 3 == 4\n" * 40
    events = [Event(1, "user", "fix the cart total")]
    for n in range(4):
        events += [
            Event(2 + 2 * n, "assistant", "", tool="run_tests", args={"selector": "cart"}),
            Event(3 + 2 * n, "tool", output, tool="run_tests", ok=False),
        ]
    budget = 2000
    result, _ = assemble(
        "fix the cart total",
        budget=budget,
        counter=COUNTER,
        hits=HITS,
        session=SessionView("s", tuple(events)),
    )
    code = [r for r in result.layers if r.id.startswith("code:") and r.status != "excluded"]
    assert code and all(r.cause == "fit" for r in code)
    assert budget * CODE_SHARE * 0.8 <= sum(r.tokens for r in code) <= budget * CODE_SHARE
    assert any(r.cause == "shrunk" for r in result.layers if r.id.startswith("history:"))
    assert result.used <= budget
    left_out = [r for r in result.layers if r.id.startswith("code:") and r.status == "excluded"]
    assert all("tokens for code" in r.reason for r in left_out)


def test_with_room_to_spare_code_takes_what_the_other_layers_leave() -> None:
    result, _ = assemble("explain the module functions", budget=6000, counter=COUNTER, hits=HITS)
    code = sum(r.tokens for r in result.layers if r.id.startswith("code:"))
    assert code > 6000 * CODE_SHARE
    assert result.used <= 6000 and result.used > 0.9 * 6000


@settings(max_examples=60)  # each example packs with a real tokenizer: costly
@given(
    st.sampled_from(["gpt-4.1", "gpt-4", "claude-sonnet-4"]),
    st.lists(st.integers(0, len(HITS) - 1), min_size=1, max_size=8, unique=True),
    st.sampled_from(["pkg/x.py", "/abs/x.py", " spaced.py", "x"]),
)
def test_a_file_layer_counted_by_parts_costs_what_pack_charges(
    model: str, picks: list[int], path: str
) -> None:
    """The cost ``select_code`` keeps for a file as hits join it, one at a time (summed from
    the frame and span blocks, only the touched span counted again), equals the count of the
    rendered layer (exact BPE in both encodings, and an estimate scaled once over the sum);
    paths that would break a cut point are counted whole."""
    from dataclasses import replace

    from contextos.context.code_fill import _Costs
    from contextos.context.sources import code_layers

    counter = counter_for(model)
    hits = [replace(HITS[i], path=path) for i in picks]
    costs, file = _Costs(counter), None
    for n, hit in enumerate(hits):
        file = costs.add(file, hit, hits[:n])
        layer = code_layers(merge_hits(hits[: n + 1]))[0]
        assert file.cost == counter.count(layer.render(layer.body()) + SEPARATOR)

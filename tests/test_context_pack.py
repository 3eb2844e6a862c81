"""``pack``: its four guarantees as properties, and the shape of what it returns."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from contextos.context import (
    CharCounter,
    Layer,
    Pack,
    State,
    TokenCounter,
    WordCounter,
    counter_for,
    density,
    head,
    pack,
    quoted,
)
from contextos.context.compress import code_density
from contextos.context.counting import count_all
from contextos.context.report import SEPARATOR
from contextos.errors import UserInputError
from contextos.tokens import EstimatingCounter, ExactCounter

LINES = [
    "the quick brown fox jumps over the lazy dog",
    "this sentence is plain prose and says little",
    "def parse_config(path): return load(path)",
    "src/contextos/context/packer.py:42",
    "retries = 3  # seconds: 2.5",
    "",
    "```python",
    "```",
    "# a comment about nothing in particular",
    "the quick brown fox jumps over the lazy dog",
    "x",
]


class Opaque:
    """A counter the packer cannot count in parts (no ``additive``): it counts layers whole."""

    def __init__(self, inner: TokenCounter) -> None:
        self.inner = inner
        self.name, self.margin = inner.name, inner.margin

    def count(self, text: str) -> int:
        return self.inner.count(text)


COUNTERS: list[TokenCounter] = [WordCounter(), CharCounter(4.0), Opaque(WordCounter())]
O200K = counter_for("gpt-4.1")


@pytest.fixture(scope="module")
def o200k_ranks() -> None:
    """Read the o200k_base ranks before any timed example: reading them takes about a second,
    once per process by design (lazy, then cached), and is no example's work."""
    O200K.count("ranks")


@st.composite
def layer_sets(
    draw: st.DrawFn, counters: list[TokenCounter] = COUNTERS
) -> tuple[list[Layer], int, TokenCounter]:
    """Two to nine layers, a counter, and a budget drawn where the guarantees have work to do:

    - 7 in 10 cover the smallest sizes of the reserved layers and of the first k others in
      priority order but not the next one's (mostly one that could shrink): it is dropped;
    - 2 in 10 leave room for every layer shrunk, not for all whole (at the top end, all fit);
    - 1 in 10 are below what the reserved layers need, and ``pack`` raises (a zero budget when
      nothing is reserved)."""
    counter = draw(st.sampled_from(counters))
    layers = []
    for i in range(draw(st.integers(2, 9))):
        text = "\n".join(draw(st.lists(st.sampled_from(LINES), min_size=1, max_size=14)))
        wrap = draw(st.sampled_from([None, quoted("a file")]))
        wrapper = counter.count((wrap("") if wrap else "") + SEPARATOR)
        min_tokens = wrapper + 8 + draw(st.integers(0, 25))
        reserved = draw(st.sampled_from([0, 0, 0, 0, 5, 30]))
        layers.append(
            Layer(
                id=f"L{i}",
                content=text,
                priority=draw(st.integers(0, 4)),
                reserved_tokens=reserved,
                min_tokens=min_tokens,
                max_tokens=draw(st.none() | st.integers(min_tokens, 160)),
                compressor=draw(st.sampled_from([None, density, head, code_density])),
                wrap=wrap,
                placement=draw(st.sampled_from(["system", "context", "history", "task"])),
            )
        )
    reserved = sum(smallest(x, counter) for x in layers if x.reserved)
    # The packer's order: by priority, ties in given order (sorted is stable).
    order = sorted(
        (x for x in layers if not x.reserved and largest(x, counter)), key=lambda x: -x.priority
    )
    cuts = list(itertools.accumulate((smallest(x, counter) for x in order), initial=reserved))
    full = max(cuts[-1], sum(largest(x, counter) for x in layers))
    region = draw(st.sampled_from([0] * 7 + [1] * 2 + [2]))
    if region == 0 and order:  # shrinks toward the last such k: all but one layer kept
        ks = [k for k, x in enumerate(order) if x.compressor is not None] or range(len(order))
        k = ks[-1 - draw(st.integers(0, len(ks) - 1))]
        low, high = cuts[k], max(cuts[k], cuts[k + 1] - 1)
    elif region < 2:
        low, high = cuts[-1], full
    else:
        low, high = 0, max(reserved - 1, 0)
    return layers, draw(st.integers(low, high)), counter


def cost(layer: Layer, counter: TokenCounter) -> int:
    return counter.count(layer.render(layer.body()) + SEPARATOR)


def smallest(layer: Layer, counter: TokenCounter) -> int:
    """What a layer needs at least, from its declared fields: its whole size if it cannot
    shrink, else ``min_tokens``; a reserved layer needs its reservation (within those bounds)."""
    full = cost(layer, counter)
    floor = min(full, layer.min_tokens) if layer.compressor is not None else full
    return min(full, max(layer.reserved_tokens, floor)) if layer.reserved else floor


def largest(layer: Layer, counter: TokenCounter) -> int:
    """What a layer may take at most: its whole size, or ``max_tokens`` when over it (capped
    if it can shrink, left out if it cannot, unless reserved)."""
    full = cost(layer, counter)
    if layer.max_tokens is None or full <= layer.max_tokens or layer.reserved:
        return full
    return layer.max_tokens if layer.compressor is not None else 0


def packed_or_none(layers: list[Layer], budget: int, counter: TokenCounter) -> Pack | None:
    try:
        return pack(layers, budget, counter)
    except UserInputError as exc:
        assert "reserved layers need" in str(exc)
        whole = sum(cost(x, counter) for x in layers if x.reserved)
        assert whole > budget, "raised although the reserved layers fit whole"
        return None


def fate(result: Pack | None) -> str:
    if result is None:
        return "raised: the reserved layers do not fit"
    return "the budget binds" if squeezed(result) else "everything fits whole"


def squeezed(result: Pack | None) -> bool:
    """Whether the budget bound: some layer was shrunk or dropped."""
    return result is not None and any(
        r.cause in ("no_room", "cascade", "shrunk") for r in result.layers
    )


def dropped(result: Pack | None) -> bool:
    return result is not None and any(r.cause in ("no_room", "cascade") for r in result.layers)


# Each property records with ``event`` whether an example reached the branch it is about, so
# ``pytest --hypothesis-show-statistics`` shows how often each guarantee is really exercised.


@given(layer_sets())
def test_a_pack_never_exceeds_its_budget(case: tuple[list[Layer], int, TokenCounter]) -> None:
    layers, budget, counter = case
    result = packed_or_none(layers, budget, counter)
    event("pack", fate(result))
    if result is None:
        return
    assert result.used <= budget
    measured = sum(counter.count(r.text + SEPARATOR) for r in result.layers if r.tokens)
    assert measured == result.used
    sent = sum(counter.count(m["content"]) for m in result.openai_messages())
    assert sent <= budget


@given(layer_sets())
def test_reserved_layers_are_always_included(case: tuple[list[Layer], int, TokenCounter]) -> None:
    layers, budget, counter = case
    result = packed_or_none(layers, budget, counter)
    event(
        "reserved layers under pressure", str(squeezed(result) and any(x.reserved for x in layers))
    )
    if result is None:
        return
    for layer, report in zip(layers, result.layers, strict=True):
        if layer.reserved:
            assert report.status in ("included", "truncated"), report


@given(layer_sets())
def test_a_higher_priority_layer_is_never_dropped_while_a_lower_one_stays(
    case: tuple[list[Layer], int, TokenCounter],
) -> None:
    layers, budget, counter = case
    result = packed_or_none(layers, budget, counter)
    gone = [r for r in result.layers if r.cause in ("no_room", "cascade")] if result else []
    kept = [r for r in result.layers if r.status != "excluded" and not r.reserved] if result else []
    event("dropped layers next to kept ones", str(bool(gone and kept)))
    for out in gone:
        for stay in kept:
            assert stay.priority >= out.priority, (out.id, stay.id)


@given(layer_sets())
def test_a_compressible_layer_is_shrunk_before_it_is_dropped(
    case: tuple[list[Layer], int, TokenCounter],
) -> None:
    layers, budget, counter = case
    result = packed_or_none(layers, budget, counter)
    reports = result.layers if result is not None else ()
    out = [i for i, r in enumerate(reports) if layers[i].compressor and r.cause == "no_room"]
    event("a compressible layer dropped for room", str(bool(out)))
    for i in out:
        layer = layers[i]
        # Dropped for room: even shrunk to min_tokens it did not fit next to the smallest
        # forms of everything the packer had to place before it.
        before = [
            other
            for j, (other, r) in enumerate(zip(layers, reports, strict=True))
            if j != i
            and r.status != "excluded"
            and (
                other.reserved
                or other.priority > layer.priority
                or (other.priority == layer.priority and j < i)
            )
        ]
        needed = sum(smallest(o, counter) for o in before)
        assert needed + smallest(layer, counter) > budget


SELECTION = ("condition", "expired", "over_max", "no_room", "cascade")


@given(layer_sets())
def test_counting_layers_in_parts_decides_like_counting_them_whole(
    case: tuple[list[Layer], int, TokenCounter],
) -> None:
    """The lazy path (an additive counter) and the whole-count path (the same counter hidden
    behind ``Opaque``) select the same layers, report the same whole sizes, and, when nothing
    must shrink, pack exactly the same. Compression is where they may part (the lazy path offers
    compressors an estimate of the body, the other its exact size), so layers are not capped
    at ``max_tokens`` here: capping compresses while measuring and moves the selection."""
    layers, budget, counter = case
    layers = [dataclasses.replace(x, max_tokens=None) for x in layers]
    inner = counter.inner if isinstance(counter, Opaque) else counter
    lazy, whole = (
        packed_or_none(layers, budget, inner),
        packed_or_none(layers, budget, Opaque(inner)),
    )
    assert (lazy is None) == (whole is None)
    event("layers dropped: selections compared", str(dropped(lazy) or dropped(whole)))
    if lazy is None or whole is None:
        return
    for layer, a, b in zip(layers, lazy.layers, whole.layers, strict=True):
        assert (a.cause in SELECTION) == (b.cause in SELECTION), (a, b)
        assert a.full_tokens == b.full_tokens
        assert a.full_tokens in (0, cost(layer, inner))
    shrunk = any(r.cause == "shrunk" for r in (*lazy.layers, *whole.layers))
    if not shrunk:
        fates = [[(r.cause, r.text, r.tokens, r.reason) for r in p.layers] for p in (lazy, whole)]
        assert fates[0] == fates[1]
    event("layers dropped, none shrunk: fates compared", str(dropped(lazy) and not shrunk))


@pytest.mark.usefixtures("o200k_ranks")
@given(layer_sets([O200K]))
def test_never_over_budget_with_the_real_o200k_counter(
    case: tuple[list[Layer], int, TokenCounter],
) -> None:
    layers, budget, counter = case
    result = packed_or_none(layers, budget, counter)
    event("pack", fate(result))
    if result is not None:
        assert result.used <= budget
        assert sum(counter.count(m["content"]) for m in result.openai_messages()) <= budget


def test_a_compressible_layer_shrinks_to_make_room_before_anything_is_dropped() -> None:
    words = WordCounter()
    prose = "\n".join(f"line {i} says something" for i in range(40))
    layers = [
        Layer(id="big", content=prose, priority=2, compressor=density, min_tokens=10),
        Layer(id="atomic", content="one two three four five six", priority=1),
    ]
    roomy = pack(layers, 60, words)
    assert [(r.status, r.cause) for r in roomy.layers] == [
        ("truncated", "shrunk"),
        ("included", "fit"),
    ]
    assert roomy.layer("big").tokens <= 54 and roomy.layer("big").full_tokens == 160
    tight = pack(layers, 14, words)
    big, atomic = tight.layers
    assert big.status == "truncated" and 10 <= big.tokens <= 14
    assert (atomic.status, atomic.cause) == ("excluded", "no_room")
    assert atomic.reason.startswith("needs 6 tokens, only") and tight.used <= 14


def test_lazy_sources_run_only_for_layers_whose_condition_holds() -> None:
    calls: list[str] = []

    def source(name: str) -> Callable[[], str]:
        def make() -> str:
            calls.append(name)
            return f"{name} text"

        return make

    layers = [
        Layer(id="on", source=source("on"), condition=lambda s: s.turn >= 1),
        Layer(id="off", source=source("off"), condition=lambda s: s.turn >= 5, why="late"),
    ]
    result = pack(layers, 100, WordCounter(), State(turn=2))
    assert calls == ["on"]
    assert [(r.id, r.status) for r in result.layers] == [("on", "included"), ("off", "excluded")]
    assert result.layer("off").reason == "condition not met: late"


def test_a_temporary_layer_expires_after_its_ttl() -> None:
    layer = Layer(id="reminder:x", content="mind the gap", ttl=2, born=3, placement="task")
    assert pack([layer], 50, WordCounter(), State(turn=4)).layers[0].status == "included"
    gone = pack([layer], 50, WordCounter(), State(turn=5)).layers[0]
    assert (gone.status, gone.cause) == ("excluded", "expired")
    assert gone.reason == "expired: shown for 2 turn(s) from turn 3, now turn 5"


def test_reserved_layers_that_cannot_fit_raise_a_clear_error() -> None:
    layer = Layer(id="system", content="a " * 50, reserved_tokens=10)
    with pytest.raises(
        UserInputError, match="reserved layers need 50 tokens, more than the budget"
    ):
        pack([layer], 20, WordCounter())


def test_a_zero_budget_packs_nothing_and_refuses_a_reservation() -> None:
    layers = [
        Layer(id="task", content="fix the bug", priority=2),
        Layer(id="notes", content="a b c d e f g h i j k l", priority=1, compressor=density),
    ]
    empty = pack(layers, 0, WordCounter())
    assert [(r.id, r.status, r.cause, r.tokens) for r in empty.layers] == [
        ("task", "excluded", "no_room", 0),
        ("notes", "excluded", "cascade", 0),
    ]
    assert (empty.used, empty.openai_messages()) == (0, [])
    with pytest.raises(
        UserInputError, match="reserved layers need 2 tokens, more than the budget of 0"
    ):
        pack([Layer(id="system", content="be brief", reserved_tokens=2)], 0, WordCounter())


def test_messages_for_openai_and_anthropic() -> None:
    layers = [
        Layer(id="system", content="be careful", placement="system", reserved_tokens=5),
        Layer(id="task", content="Task: fix it", placement="task", priority=9),
        Layer(id="code:a.py", content="x = 1", placement="context", wrap=quoted("a.py")),
        Layer(id="history:1", content="hi", placement="history", role="user"),
        Layer(id="history:2", content="hello", placement="history", role="assistant"),
        Layer(id="rules:AGENTS.md", content="use tabs", placement="system"),
    ]
    result = pack(layers, 200, WordCounter())
    data = result.layer("code:a.py").text
    assert result.openai_messages() == [
        {"role": "system", "content": "be careful\n\nuse tabs"},
        {"role": "user", "content": f"{data}\n\nhi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "Task: fix it"},
    ]
    system, messages = result.anthropic_messages()
    assert system == "be careful\n\nuse tabs"
    assert messages == result.openai_messages()[1:]
    report = result.report(model="gpt-4.1")
    assert set(report) >= {"budget", "used", "model", "layers", "messages"}
    assert report["layers"][0] == {
        "id": "system",
        "tokens": 2,
        "status": "included",
        "reason": "reserved; fits whole (2 of 2 tokens)",
        "full_tokens": 2,
        "priority": 0,
        "placement": "system",
    }
    assert report["used"] == result.used <= report["budget"] == 200


def test_layer_ids_must_be_unique_and_bounds_sane() -> None:
    with pytest.raises(UserInputError, match="unique"):
        pack([Layer(id="a", content="x"), Layer(id="a", content="y")], 10, WordCounter())
    with pytest.raises(UserInputError, match="exactly one of content and source"):
        Layer(id="a")
    with pytest.raises(UserInputError, match="max_tokens is below min_tokens"):
        Layer(id="a", content="x", min_tokens=5, max_tokens=2)


class Recording:
    """A ``WordCounter`` that keeps every text it was asked to count."""

    name, margin = "words", 0.0

    def __init__(self) -> None:
        self.texts: list[str] = []

    def count(self, text: str) -> int:
        self.texts.append(text)
        return len(text.split())


class Estimating(WordCounter):
    """A ``WordCounter`` that, like the packer's, offers an estimate of one text it must shrink."""

    def __init__(self, text: str, estimate: int) -> None:
        self._text, self._estimate = text, estimate

    def estimate(self, text: str) -> int | None:
        return self._estimate if text == self._text else None


texts = st.lists(st.sampled_from(LINES), min_size=1, max_size=30).map("\n".join)
ALL_COUNTERS: list[TokenCounter] = [*COUNTERS, O200K]


@pytest.mark.usefixtures("o200k_ranks")
@given(texts, st.integers(0, 120), st.sampled_from(ALL_COUNTERS), st.sampled_from(range(3)))
def test_a_compressor_returns_a_text_that_fits_or_the_text_itself_when_it_fits(
    text: str, target: int, counter: TokenCounter, which: int
) -> None:
    compress = (density, code_density, head)[which]
    out = compress(text, target, counter)
    if counter.count(text) <= target:
        assert out == text
    else:
        assert counter.count(out) <= target


@given(texts, st.integers(0, 120), st.integers(0, 40), st.sampled_from(range(3)))
def test_a_compressor_told_the_size_of_its_text_still_returns_a_text_that_fits(
    text: str, target: int, more: int, which: int
) -> None:
    """The packer tells a compressor about what the body it must shrink counts; any estimate
    over the target gives a text that fits, the true count gives what counting gives."""
    compress = (density, code_density, head)[which]
    out = compress(text, target, Estimating(text, target + 1 + more))
    assert WordCounter().count(out) <= target
    size = WordCounter().count(text)
    if size > target:
        told = compress(text, target, Estimating(text, size))
        assert told == compress(text, target, WordCounter())


@given(texts, st.integers(0, 120))
def test_head_keeps_the_longest_prefix_that_fits(text: str, target: int) -> None:
    counter = CharCounter(4.0)  # its counts grow with the prefix
    note = "\n[… cut to fit]"
    lines = text.split("\n")
    if counter.count(text) <= target:
        expected = text
    elif fitting := [
        k for k in range(1, len(lines) + 1) if counter.count("\n".join(lines[:k]) + note) <= target
    ]:
        expected = "\n".join(lines[: max(fitting)]) + note
    else:
        chars = [
            k for k in range(1, len(lines[0]) + 1) if counter.count(lines[0][:k] + note) <= target
        ]
        expected = lines[0][: max(chars)] + note if chars else ""
    assert head(text, target, counter) == expected


def test_batch_counts_equal_one_by_one_counts() -> None:
    """Large enough that ``ExactCounter.count_many`` splits the batch over threads."""
    pieces = [
        "def f(x):\n    return x  # <|endoftext|>",
        "prose, and more prose.",
        "\ud800 lone",
        "",
    ]
    batch = [piece * (i % 97) for i in range(800) for piece in pieces]
    assert sum(map(len, batch)) > 200_000
    exact = ExactCounter("o200k_base")
    for counter in (exact, EstimatingCounter(exact, 1.3), WordCounter(), CharCounter(3.0)):
        assert count_all(counter, batch) == [counter.count(t) for t in batch]
    assert exact.count_many([]) == []


def test_a_pack_counts_each_text_once_and_never_the_whole_body_it_shrinks() -> None:
    body = "\n".join(f"line {i} = compute(x, {i})" for i in range(60))
    layers = [
        Layer(id="code:a.py", content=body, compressor=density, min_tokens=30, wrap=quoted("a.py")),
        Layer(id="task", content="fix the bug in compute", priority=9),
    ]
    counter = Recording()
    result = pack(layers, 80, counter)
    assert result.layer("code:a.py").status == "truncated" and result.used <= 80
    assert len(counter.texts) == len(set(counter.texts))
    assert body not in counter.texts

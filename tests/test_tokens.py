"""contextos.tokens: exact counts equal tiktoken's and a plain-Python BPE's; estimates are stated.

Three independent encoders must agree id for id on a corpus of code and prose:

- ours: ``ExactCounter``, our loader over our bundled rank files and our copy of the regexes;
- tiktoken's: built by ``tiktoken_ext.openai_public`` itself, which reads the same bytes through
  its own download cache and rejects them unless their sha256 is the official one;
- a reference BPE written here in plain Python (after minbpe): slow, but obviously correct.
"""

from __future__ import annotations

import gzip
import hashlib
import inspect
import itertools
import math
import re
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from fractions import Fraction
from importlib import resources
from pathlib import Path

import pytest
import regex
import tiktoken
from hypothesis import given, settings
from hypothesis import strategies as st
from tiktoken_ext import openai_public

from contextos.context.counting import LazyCount, _cut_from
from contextos.errors import UserInputError
from contextos.tokens import (
    CLAUDE_47_FACTOR,
    CLAUDE_FACTOR,
    ENCODINGS,
    LINE_END_CUT,
    UNKNOWN_FACTOR,
    EstimatingCounter,
    ExactCounter,
    TokenCounter,
    counter_for_model,
)

ROOT = Path(__file__).resolve().parents[1]
NAMES = sorted(ENCODINGS)
OFFICIAL_URLS = {
    name: f"https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken" for name in NAMES
}


class ReferenceBPE:
    """tiktoken's algorithm in plain Python: split text with the encoding's regex, then in each
    piece keep merging the adjacent pair whose concatenation has the lowest rank (leftmost on
    ties) until no pair is a token. Special tokens are not recognised: text is text."""

    def __init__(self, pat_str: str, ranks: dict[bytes, int]) -> None:
        self.pattern = regex.compile(pat_str)
        self.ranks = ranks
        self.cache: dict[str, list[int]] = {}

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for piece in self.pattern.findall(text):
            if piece not in self.cache:
                self.cache[piece] = self.bpe(piece.encode("utf-8"))
            ids.extend(self.cache[piece])
        return ids

    def bpe(self, piece: bytes) -> list[int]:
        parts = [bytes([b]) for b in piece]
        while len(parts) > 1:
            pairs = [
                (self.ranks[a + b], i)
                for i, (a, b) in enumerate(itertools.pairwise(parts))
                if a + b in self.ranks
            ]
            if not pairs:
                break
            _, i = min(pairs)
            parts[i : i + 2] = [parts[i] + parts[i + 1]]
        return [self.ranks[part] for part in parts]


def bundled_ranks_text(name: str) -> bytes:
    data = resources.files("contextos.tokens") / "data" / f"{name}.tiktoken.gz"
    return gzip.decompress(data.read_bytes())


@pytest.fixture(scope="session")
def official(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tiktoken.Encoding]:
    """tiktoken's own encodings, loaded the way tiktoken loads them: its constructors in
    ``openai_public`` read the rank file from TIKTOKEN_CACHE_DIR (where we put the bundled
    bytes under the cache key of the official URL) and verify the official sha256."""
    cache = tmp_path_factory.mktemp("tiktoken-cache")
    for name, url in OFFICIAL_URLS.items():
        key = hashlib.sha1(url.encode()).hexdigest()
        (cache / key).write_bytes(bundled_ranks_text(name))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", str(cache))
        return {
            name: tiktoken.Encoding(**openai_public.ENCODING_CONSTRUCTORS[name]()) for name in NAMES
        }


@pytest.fixture(scope="session")
def reference(official: dict[str, tiktoken.Encoding]) -> dict[str, ReferenceBPE]:
    return {
        name: ReferenceBPE(enc._pat_str, enc._mergeable_ranks) for name, enc in official.items()
    }


@pytest.fixture(scope="session")
def exact() -> dict[str, ExactCounter]:
    """Our counters with their ranks read: reading them takes about a second, once per process
    by design (lazy, then cached), and is no timed example's work."""
    counters = {name: ExactCounter(name) for name in NAMES}
    for counter in counters.values():
        counter.count("ranks")
    return counters


def _source_files() -> Iterator[tuple[str, str]]:
    for module in (textwrap, inspect, tomllib):
        yield module.__name__, Path(inspect.getfile(module)).read_text(encoding="utf-8")
    for path in sorted((ROOT / "src" / "contextos" / "tokens").glob("*.py")):
        yield path.name, path.read_text(encoding="utf-8")


HANDWRITTEN = {
    "empty": "",
    "prose": "The quick brown fox jumps over the lazy dog. It's 5 o'clock; we're LATE, aren't we?",
    "contractions": "I'm you're he'd we've they'll it's DON'T WE'LL She'S I'M 'tis rock'n'roll",
    "numbers": "0 7 42 123 1234 12345678901234567890 3.14159 -2.5e-10 1,000,000 0xDEADBEEF 1_000",
    "unicode_digits": "٣٤٥ ١٢٣٤ ①②③ Ⅻ ５６７ १२३",
    "emoji": "ship it 🚀🚀 👩‍👩‍👧‍👦 🇺🇦🇯🇵 👍🏽 ❤️ 🤖: done ✅ (╯°□°)╯︵ ┻━┻",
    "cjk": "漢字とひらがなとカタカナ。中文文本，没有空格。한국어 문장도 있습니다.",
    "scripts": "Привет, мир! Ελληνικά. مرحبا بالعالم. שלום. नमस्ते दुनिया. สวัสดีครับ",
    "combining": "e\u0301 a\u0308 n\u0303 Z\u0335\u0321a\u0337lgo ﬁ ß ǅ İstanbul",
    "crlf": "line one\r\nline two\r\n\r\n    indented\r\n\tdone\r\n",
    "lone_cr_and_ff": "a\rb\x0bc\x0cd\x85e\u2028f\u2029g\u00a0h\u200bi\x00j",
    "whitespace_runs": "".join(f"{' ' * n}x{chr(9) * (n % 7)}y\n" for n in range(0, 70, 3)),
    "long_spaces": "start" + " " * 1000 + "end",
    "long_newlines": "a" + "\n" * 300 + "b" + " \n" * 50 + "\t\t\n\n",
    "trailing_space": "ends with spaces and a newline   \n   ",
    "special_text": "<|endoftext|> <|fim_prefix|>x<|fim_middle|>y<|fim_suffix|> <|endofprompt|>",
    "paths": "/usr/local/lib/python3.11/site-packages/x.py:12-40 ../a/b.txt C:\\Users\\me\\x.json",
    "url_b64": "https://example.com/a?b=1&c=%20d#e aGVsbG8gd29ybGQhIQ==AAAA//8+/w",
    "js": "const f = async (x) => { await fetch(`/api/${x}`); return x?.y ?? 0; };\n// done\n",
    "rust": "fn main() -> Result<(), Box<dyn Error>> {\n    let v: Vec<u8> = vec![1, 2];\n}\n",
    "go": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hi")\n}\n',
    "sql": "SELECT id, COUNT(*) AS n FROM t WHERE x >= 10 GROUP BY id HAVING n > 1;\n",
    "html": '<div class="a"><p>Hello &amp; bye</p><br/></div>\n<!-- comment -->',
    "json": '{"a": [1, 2.5, null, true], "b": {"c": "d\\n\\u00e9"}}',
    "markdown": "# Title\n\n| col | val |\n|-----|----:|\n| a   |   1 |\n\n```py\nx = 1\n```\n",
    "diff": "--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n-old = 1\n+new = 2\n context\n",
    "rule": "=" * 120 + "\n" + "-" * 80 + "\n" + "#" * 40,
}
CORPUS = {**HANDWRITTEN, **dict(_source_files())}
CORPUS["source_crlf"] = CORPUS["textwrap"].replace("\n", "\r\n")


def test_bundled_ranks_hash_to_the_sha256_tiktoken_expects_for_the_official_files() -> None:
    for name in NAMES:
        source = inspect.getsource(openai_public.ENCODING_CONSTRUCTORS[name])
        match = re.search(r'expected_hash="([0-9a-f]{64})"', source)
        assert match is not None
        digest = hashlib.sha256(bundled_ranks_text(name)).hexdigest()
        assert digest == match.group(1) == ENCODINGS[name].sha256


def test_regexes_and_special_tokens_are_tiktokens_definitions(
    official: dict[str, tiktoken.Encoding],
) -> None:
    for name in NAMES:
        assert ENCODINGS[name].pat_str == official[name]._pat_str
        assert ENCODINGS[name].special_tokens == official[name]._special_tokens


@pytest.mark.parametrize("name", NAMES)
def test_ids_and_counts_equal_tiktoken_and_reference_bpe_on_code_and_prose(
    name: str, official: dict[str, tiktoken.Encoding], reference: dict[str, ReferenceBPE]
) -> None:
    counter = ExactCounter(name)
    assert sum(len(t) for t in CORPUS.values()) > 100_000
    for label, text in CORPUS.items():
        ids = counter.encode(text)
        assert ids == official[name].encode_ordinary(text), label
        assert ids == reference[name].encode(text), label
        assert counter.count(text) == len(ids), label
        assert counter.decode(ids) == text, label


@settings(max_examples=300)  # cheap examples; random text is where encoders part ways
@given(
    text=st.text(max_size=120)
    | st.text(alphabet=" \t\r\n\u00a0aZé漢😀\u0301'’0159_.,;:/\\(){}<|>=-#\"", max_size=120)
)
def test_random_text_encodes_like_the_reference_bpe(
    text: str,
    exact: dict[str, ExactCounter],
    official: dict[str, tiktoken.Encoding],
    reference: dict[str, ReferenceBPE],
) -> None:
    for name in NAMES:
        ids = exact[name].encode(text)
        assert ids == reference[name].encode(text) == official[name].encode_ordinary(text)


@pytest.mark.parametrize("name", NAMES)
def test_special_token_text_is_counted_as_ordinary_text(
    name: str, official: dict[str, tiktoken.Encoding]
) -> None:
    counter = ExactCounter(name)
    for special, special_id in ENCODINGS[name].special_tokens.items():
        ids = counter.encode(f"a{special}b")
        assert special_id not in ids
        assert ids == official[name].encode(f"a{special}b", disallowed_special=())
        assert counter.count(special) == len(official[name].encode(special, disallowed_special=()))
        assert counter.count(special) > 1


def test_empty_text_has_no_tokens() -> None:
    counters: list[TokenCounter] = [ExactCounter(name) for name in NAMES]
    counters += [counter_for_model("claude-sonnet-4-5"), counter_for_model("some-local-model")]
    assert [c.count("") for c in counters] == [0] * len(counters)
    assert ExactCounter().encode("") == []


def test_lone_surrogates_are_counted_not_raised() -> None:
    counter = ExactCounter()
    assert counter.count("a\ud800b") == counter.count("a\ufffdb")


@pytest.mark.parametrize(
    ("model", "name", "margin"),
    [
        ("gpt-4o", "o200k_base", 0.0),
        ("gpt-4o-mini-2024-07-18", "o200k_base", 0.0),
        ("chatgpt-4o-latest", "o200k_base", 0.0),
        ("gpt-4.1", "o200k_base", 0.0),
        ("gpt-4.1-nano", "o200k_base", 0.0),
        ("GPT-5", "o200k_base", 0.0),
        ("gpt-5-codex", "o200k_base", 0.0),
        ("o1", "o200k_base", 0.0),
        ("o3-mini", "o200k_base", 0.0),
        ("o4-mini-2025-04-16", "o200k_base", 0.0),
        ("openai/gpt-oss-120b", "o200k_base", 0.0),
        ("openai:gpt-4.1", "o200k_base", 0.0),
        ("ft:gpt-4o-2024-08-06:org::abc", "o200k_base", 0.0),
        ("gpt-4", "cl100k_base", 0.0),
        ("gpt-4-turbo", "cl100k_base", 0.0),
        ("gpt-4-32k-0613", "cl100k_base", 0.0),
        ("gpt-3.5-turbo", "cl100k_base", 0.0),
        ("azure/gpt-35-turbo", "cl100k_base", 0.0),
        ("text-embedding-3-small", "cl100k_base", 0.0),
        ("claude-3-5-sonnet-20241022", "o200k_base*1.3", 0.3),
        ("claude-sonnet-4-20250514", "o200k_base*1.3", 0.3),
        ("claude-opus-4-1", "o200k_base*1.3", 0.3),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "o200k_base*1.3", 0.3),
        ("anthropic/claude-3.7-sonnet", "o200k_base*1.3", 0.3),
        ("claude-opus-4-7", "o200k_base*1.75", 0.75),
        ("claude-opus-5", "o200k_base*1.75", 0.75),
        ("openrouter/anthropic/claude-opus-4.7", "o200k_base*1.75", 0.75),
        ("anthropic:claude-sonnet-4", "o200k_base*1.3", 0.3),
        ("claude", "o200k_base*1.75", 0.75),
        ("llama-3.1-70b", "o200k_base*1.3", 0.3),
        ("", "o200k_base*1.3", 0.3),
    ],
)
def test_counter_for_model_maps_model_names_to_exact_or_stated_estimates(
    model: str, name: str, margin: float
) -> None:
    counter = counter_for_model(model)
    assert isinstance(counter, TokenCounter)
    assert (counter.name, counter.margin) == (name, margin)


@pytest.mark.parametrize(
    ("model", "factor"),
    [
        ("claude-sonnet-4-5", CLAUDE_FACTOR),
        ("claude-opus-4-7", CLAUDE_47_FACTOR),
        ("llama-3.1-70b", UNKNOWN_FACTOR),
    ],
)
def test_an_estimate_is_the_exact_o200k_count_times_its_stated_factor_rounded_up(
    model: str, factor: float, exact: dict[str, ExactCounter]
) -> None:
    """On code and prose, counted in exact rational arithmetic here (1.3 is 13/10)."""
    estimate = counter_for_model(model)
    for label, text in CORPUS.items():
        scaled = exact["o200k_base"].count(text) * Fraction(str(factor))
        assert estimate.count(text) == math.ceil(scaled), label


def test_estimate_is_never_below_the_exact_count_and_rounds_up_exactly() -> None:
    exact = ExactCounter("o200k_base")
    estimate = counter_for_model("claude-sonnet-4-5")
    for text in CORPUS.values():
        assert estimate.count(text) >= exact.count(text)
    ten = "one two three four five six seven eight nine ten"
    assert exact.count(ten) == 10
    assert EstimatingCounter(exact, 1.3).count(ten) == 13
    assert EstimatingCounter(exact, 1.75).count(ten) == 18
    assert EstimatingCounter(exact, 1.0).count(ten) == 10


def test_bad_encoding_name_and_factor_below_one_are_user_errors() -> None:
    with pytest.raises(UserInputError, match="unknown encoding 'p50k_base'"):
        ExactCounter("p50k_base")
    with pytest.raises(UserInputError, match="factor must be >= 1"):
        EstimatingCounter(ExactCounter(), 0.9)


def test_rank_files_are_package_data_of_the_installed_package() -> None:
    data = resources.files("contextos.tokens") / "data"
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]["package-data"]["contextos"]
    for spec in ENCODINGS.values():
        assert (data / spec.data_file).is_file()
        assert hashlib.sha256(bundled_ranks_text(spec.name)).hexdigest() == spec.sha256
        assert any(fnmatch(f"tokens/data/{spec.data_file}", glob) for glob in globs)


def test_import_reads_no_rank_file_and_does_not_import_tiktoken() -> None:
    code = (
        "import sys; import contextos.tokens as t; from contextos.tokens import _encodings; "
        "t.counter_for_model('gpt-4o'); t.counter_for_model('claude-opus-4-7'); "
        "print('tiktoken' in sys.modules, len(_encodings._loaded))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "0"]


def _split_at_cuts(text: str) -> list[str]:
    ends = [m.end() for m in LINE_END_CUT.finditer(text)]
    return [text[a:b] for a, b in itertools.pairwise([0, *ends, len(text)])]


@pytest.mark.parametrize("name", NAMES)
def test_counts_add_up_over_parts_split_at_line_end_cuts(name: str) -> None:
    """The ``additive`` contract on code, prose, CRLF text and the handwritten edge cases, for
    the exact counter and an estimate over it."""
    exact = ExactCounter(name)
    scaled = EstimatingCounter(exact, 1.3)
    cuts = 0
    for label, text in CORPUS.items():
        parts = _split_at_cuts(text)
        cuts += len(parts) - 1
        for counter in (exact, scaled):
            additive = counter.additive()
            assert additive is not None
            part, scale = additive
            assert scale(sum(part.count(p) for p in parts)) == counter.count(text), label
    assert cuts > 2_000


LINEY = st.text(
    alphabet=" \t\r\n\x0b\x0c\x1c\x85\u00a0\u2028aZé漢0159_.,;:/\\(){}#'\"", max_size=160
)
LINES = st.lists(
    st.tuples(
        st.sampled_from(["", " ", "   ", "\t", "\u00a0"]),
        st.text(alphabet="aZé0_.,;:/()#' \t\x0c", max_size=10),
        st.sampled_from(["\n", "\r\n", "\n\n", "\r", " \n"]),
    ),
    max_size=12,
).map(lambda lines: "".join(indent + body + end for indent, body, end in lines))


@settings(max_examples=400)  # cheap examples; the cut rule has many corner cases
@given(text=LINES | LINEY | st.text(max_size=80))
def test_counts_add_up_at_every_cut_of_random_text(
    text: str, exact: dict[str, ExactCounter]
) -> None:
    for name, counter in exact.items():
        total = counter.count(text)
        for match in LINE_END_CUT.finditer(text):
            cut = match.end()
            assert counter.count(text[:cut]) + counter.count(text[cut:]) == total, (name, cut)


@settings(max_examples=300)  # cheap examples, as above
@given(text=LINES | LINEY, start=st.integers(0, 200), asks=st.lists(st.integers(0, 80), max_size=6))
def test_lazy_counts_are_exact_lower_bounds_at_the_points_they_stop(
    text: str, start: int, asks: list[int], exact: dict[str, ExactCounter]
) -> None:
    """``_cut_from`` only stops at cut points, so every partial count is a true lower bound,
    ``at_least`` answers as the whole count would, and ``total`` is the whole count."""
    cut = _cut_from(text, start)
    assert cut == len(text) or cut in {m.end() for m in LINE_END_CUT.finditer(text)}
    counter = exact["o200k_base"]
    whole = counter.count(text)
    lazy = LazyCount(text, counter.count, lambda n: n)
    for n in asks:
        assert lazy.at_least(n) == (whole >= n)
        assert lazy.lower <= whole
    assert lazy.estimate() >= lazy.lower
    assert lazy.total() == whole and lazy.exact

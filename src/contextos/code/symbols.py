"""Identifiers a file uses, for the definitions/references graph (an Aider-style repo map).

``referenced_identifiers`` is a regular-expression scan, not a parse: it is several times faster
than walking a syntax tree and good enough to link a file to the files defining the names it
mentions. Comments and triple-quoted strings (docstrings) are skipped as prose; other string
literals are kept, because they often name code (``getattr(obj, "name")``, ``__all__``).
Language keywords and the literals ``true``/``None``/``nil``... are dropped; builtins are kept
(the graph weighs names by how many files define them). Left out: scoping, so a local variable
named like a function elsewhere counts as a reference to it.
"""

from __future__ import annotations

import re

from contextos.types import Chunk

__all__ = ["KEYWORDS", "defined_symbols", "referenced_identifiers"]

_IDENT = re.compile(r"[A-Za-z_$][\w$]*")

_HASH_COMMENTS = frozenset(
    {
        "python",
        "ruby",
        "shell",
        "fish",
        "perl",
        "r",
        "elixir",
        "yaml",
        "toml",
        "makefile",
        "dockerfile",
        "cmake",
        "starlark",
        "nix",
        "julia",
        "cython",
        "powershell",
        "ini",
        "hcl",
    }
)
_STRING = r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\''
# Comments and strings in one flat alternation (no group around the comments), so the regex
# engine jumps straight to the next possible first character; ``_blank_comment`` tells them apart.
_SKIP = {
    "hash": re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|#[^\n]*|' + _STRING),
    "c": re.compile(r"//[^\n]*|/\*[\s\S]*?\*/|" + _STRING + r"|`(?:\\.|[^`\\])*`"),
    "sql": re.compile(r"--[^\n]*|/\*[\s\S]*?\*/|" + _STRING),
}
_NO_COMMENTS = frozenset({"markdown", "rst", "text", "json", "html", "xml", "csv"})

_C = """auto break case char const continue default do double else enum extern float for goto if
    inline int long register restrict return short signed sizeof static struct switch typedef
    union unsigned void volatile while bool true false NULL"""
KEYWORDS: dict[str, frozenset[str]] = {
    name: frozenset(words.split())
    for name, words in {
        "python": """False None True and as assert async await break class continue def del elif
            else except finally for from global if import in is lambda nonlocal not or pass raise
            return try while with yield self cls""",
        "javascript": """break case catch class const continue debugger default delete do else
            export extends false finally for function if import in instanceof let new null return
            super switch this throw true try typeof var void while with yield async await of static
            get set undefined""",
        "go": """break case chan const continue default defer else fallthrough for func go goto if
            import interface map package range return select struct switch type var nil true false
            iota""",
        "rust": """as async await break const continue crate dyn else enum extern false fn for if
            impl in let loop match mod move mut pub ref return self Self static struct super trait
            true type unsafe use where while""",
        "java": """abstract assert boolean break byte case catch char class const continue default
            do double else enum extends final finally float for goto if implements import
            instanceof int interface long native new package private protected public return short
            static strictfp super switch synchronized this throw throws transient try void volatile
            while var record yield null true false""",
        "c": _C,
        "cpp": _C
        + """ class namespace template typename public private protected virtual override final
            new delete this operator friend using try catch throw constexpr nullptr noexcept
            decltype explicit mutable""",
    }.items()
}
_TS_EXTRA = """interface type enum implements declare namespace module abstract readonly private
    public protected keyof infer is any unknown never string number boolean"""
KEYWORDS["typescript"] = KEYWORDS["tsx"] = KEYWORDS["javascript"].union(_TS_EXTRA.split())
_ALL_KEYWORDS = frozenset().union(*KEYWORDS.values())


def referenced_identifiers(text: str, language: str) -> set[str]:
    """Identifiers occurring in ``text`` outside comments, minus ``language``'s keywords.

    Unknown languages lose the keywords of every known language, and their comments are guessed
    from the language name (``#`` for script-like languages, ``//`` and ``/* */`` otherwise).
    """
    keywords = KEYWORDS.get(language, _ALL_KEYWORDS)
    if language in _NO_COMMENTS:
        code = text
    else:
        style = "hash" if language in _HASH_COMMENTS else "sql" if language == "sql" else "c"
        code = _SKIP[style].sub(_blank_comment, text)
    return set(_IDENT.findall(code)) - keywords


def defined_symbols(chunks: list[Chunk]) -> list[tuple[str, str]]:
    """``(symbol, kind)`` of the definitions among ``chunks``, once each, in order."""
    seen: dict[tuple[str, str], None] = {}
    for chunk in chunks:
        if chunk.symbol is not None and chunk.kind not in ("module", "window"):
            seen.setdefault((chunk.symbol, chunk.kind), None)
    return list(seen)


def _blank_comment(match: re.Match[str]) -> str:
    """A comment or docstring becomes a space; a string literal (quote or backtick) stays."""
    found = match.group()
    return found if found[0] in "\"'`" and found[:3] not in ('"""', "'''") else " "

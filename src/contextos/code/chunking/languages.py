"""Which language a file is written in, and the tree-sitter parser for it.

``language_for`` looks only at the path (extension or a well-known file name), never at the
content: the walker has already decided the file is text. Languages in ``PARSED_LANGUAGES`` have a
tree-sitter grammar and are chunked along their syntax tree; every other known language is chunked
in line windows.

Grammar modules are imported on the first ``parser_for`` call of their language, not at import
time, so a CLI that never chunks C++ never loads the C++ grammar. Left out: detection by shebang or
modeline, and grammars beyond the twenty the package depends on.
"""

from __future__ import annotations

import functools
import importlib
import threading
from pathlib import PurePosixPath

from tree_sitter import Language, Parser

__all__ = ["PARSED_LANGUAGES", "PROSE_LANGUAGES", "language_for", "parser_for"]

_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "php": ("tree_sitter_php", "language_php"),
    "ruby": ("tree_sitter_ruby", "language"),
    "csharp": ("tree_sitter_c_sharp", "language"),
    "scala": ("tree_sitter_scala", "language"),
    "kotlin": ("tree_sitter_kotlin", "language"),
    "swift": ("tree_sitter_swift", "language"),
    "elixir": ("tree_sitter_elixir", "language"),
    "haskell": ("tree_sitter_haskell", "language"),
    "lua": ("tree_sitter_lua", "language"),
    "shell": ("tree_sitter_bash", "language"),
    "zig": ("tree_sitter_zig", "language"),
}

PARSED_LANGUAGES = frozenset(_GRAMMARS)
"""Languages chunked along a syntax tree; all others get line windows."""


PROSE_LANGUAGES = frozenset({"markdown", "rst", "text", "tex", "asciidoc", "org"})
"""Languages of prose files (documentation, not code): ranked below code, and neither
referencing nor defining anything in the reference graph."""


def _table(spec: str) -> dict[str, str]:
    """``"lang: .a .b; other: .c"`` → ``{".a": "lang", ".b": "lang", ".c": "other"}``."""
    out: dict[str, str] = {}
    for entry in spec.split(";"):
        name, _, keys = entry.partition(":")
        out.update(dict.fromkeys(keys.split(), name.strip()))
    return out


_EXTENSIONS = _table(
    """python: .py .pyi .pyw; javascript: .js .mjs .cjs .jsx; typescript: .ts .mts .cts;
    tsx: .tsx; go: .go; rust: .rs; java: .java; c: .c .h;
    cpp: .cc .cpp .cxx .c++ .hpp .hh .hxx .h++ .ipp .tpp .inl .cu .cuh;
    markdown: .md .markdown .mdx; rst: .rst; toml: .toml; yaml: .yml .yaml;
    json: .json .jsonc .json5 .jsonl; shell: .sh .bash .zsh .ksh; fish: .fish;
    powershell: .ps1 .psm1; batch: .bat .cmd; html: .html .htm .xhtml; css: .css; scss: .scss;
    sass: .sass; less: .less; sql: .sql; ruby: .rb .rake .gemspec; php: .php; perl: .pl .pm;
    lua: .lua; kotlin: .kt .kts; swift: .swift; scala: .scala .sc; csharp: .cs; fsharp: .fs .fsx;
    objc: .m .mm; dart: .dart; elixir: .ex .exs; erlang: .erl .hrl; haskell: .hs; ocaml: .ml .mli;
    clojure: .clj .cljs .cljc .edn; julia: .jl; r: .r; zig: .zig; nim: .nim; vue: .vue;
    svelte: .svelte; xml: .xml .xsd .xsl .svg .plist; ini: .ini .cfg .conf .properties;
    cmake: .cmake; makefile: .mk .mak; dockerfile: .dockerfile; protobuf: .proto;
    graphql: .graphql .gql; hcl: .tf .tfvars .hcl; starlark: .bzl .star; nix: .nix;
    groovy: .groovy .gradle; tex: .tex .sty .bib; text: .txt .text; cython: .pyx .pxd;
    solidity: .sol; verilog: .v .sv; vhdl: .vhd .vhdl; asm: .s .asm"""
)

_FILENAMES = _table(
    """makefile: makefile gnumakefile; dockerfile: dockerfile containerfile;
    cmake: cmakelists.txt; ruby: gemfile rakefile vagrantfile podfile;
    shell: .bashrc .zshrc .profile .bash_profile .envrc; starlark: build build.bazel workspace
    workspace.bazel; toml: pipfile; ini: .editorconfig setup.cfg tox.ini .flake8;
    ignore: .gitignore .dockerignore .npmignore; text: readme license licence copying authors
    changelog notice contributors"""
)


def language_for(path: str) -> str | None:
    """The language of ``path`` by extension or file name, or ``None`` if neither is known.

    Matching is case-insensitive. ``None`` says only that the name is unknown: the caller may
    still index the file as ``"text"``.
    """
    name = PurePosixPath(path.replace("\\", "/")).name.lower()
    if name in _FILENAMES:
        return _FILENAMES[name]
    if name.startswith(("dockerfile.", "containerfile.")):
        return "dockerfile"
    dot = name.rfind(".")
    return _EXTENSIONS.get(name[dot:]) if dot > 0 else None


@functools.cache
def _language(language: str) -> Language | None:
    """The grammar of ``language``, imported on first use; ``None`` if missing or incompatible."""
    module_name, attr = _GRAMMARS[language]
    try:
        module = importlib.import_module(module_name)
        return Language(getattr(module, attr)())
    except (ImportError, AttributeError, ValueError):
        return None


_local = threading.local()


def parser_for(language: str) -> Parser | None:
    """A tree-sitter parser for ``language``, or ``None`` if it has no (usable) grammar.

    Grammars are loaded once per process; parsers are not thread-safe, so each thread gets its
    own, created on its first call and reused afterwards.
    """
    if language not in _GRAMMARS:
        return None
    parsers: dict[str, Parser | None] = _local.__dict__.setdefault("parsers", {})
    if language not in parsers:
        grammar = _language(language)
        parsers[language] = Parser(grammar) if grammar is not None else None
    return parsers[language]

"""Chunking: cut a source file into definitions (tree-sitter) or line windows.

``chunker`` is the entry point (``chunk_file``); ``languages`` maps paths to grammars and
parsers; ``outline`` reads a parse into a tree of definitions using each language's rules
(``defs_python_js``, ``defs_go_rust_java_c``, ``defs_php_ruby_csharp``, ``defs_jvm_swift``,
``defs_functional``, ``defs_scripts``) over the node helpers of ``syntax``; ``lines``
holds the line arithmetic and Markdown sections shared by windows and outlines.
"""

from contextos.code.chunking.chunker import CHUNKER_VERSION, chunk_file
from contextos.code.chunking.languages import PARSED_LANGUAGES, language_for, parser_for

__all__ = ["CHUNKER_VERSION", "PARSED_LANGUAGES", "chunk_file", "language_for", "parser_for"]

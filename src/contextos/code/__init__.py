"""Codebase indexing and search: chunk (``chunking/``), analyse, index, rank. The walk that
decides which files are seen, and the lexical ranking parts shared with memory recall
(``contextos.retrieval``), live outside this package."""

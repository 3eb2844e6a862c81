"""Ranking parts shared by code search and memory recall: code-aware tokenisation
(``tokenize``), a BM25 index over postings (``bm25``) and reciprocal-rank fusion (``fusion``).
Each is a pure function or a small class with its I/O outside."""

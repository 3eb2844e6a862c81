"""Codebase indexing and search: walk, chunk, tokenize, index, rank."""

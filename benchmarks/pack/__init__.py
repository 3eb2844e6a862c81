"""Context packing: gold-in-budget of packed code, and packing speed.

``python -m benchmarks.pack`` runs ``harness.main`` (contextos's code path against whole-file
BM25 packing and an Aider-style repo map, on the localization instances); ``python -m
benchmarks.pack.speed`` times ``pack`` and ``select_code`` alone. ``gold`` decides whether a
packed text holds the gold, ``systems`` packs each system's ranking, ``repomap`` is the repo-map
baseline and ``report`` turns rows into figures.
"""

"""Code localization: issue text → the files the fix touched, contextos against whole-file BM25.

``python -m benchmarks.localize`` runs ``harness.main``; ``python -m benchmarks.localize.tune``
tunes ``SearchConfig`` on the workspaces a ``--keep-workspaces`` run left. ``bm25`` is the
whole-file BM25 baseline, which ``benchmarks.pack`` uses too.
"""

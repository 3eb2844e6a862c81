"""contextos's benchmarks: one package per benchmark, each run with ``python -m``.

* ``benchmarks.localize`` — issue text → the files the fix touched (SWE-bench Lite dev);
  ``benchmarks.localize.tune`` tunes ``SearchConfig`` on its kept workspaces;
* ``benchmarks.pack`` — gold-in-budget of packed code contexts, and packing speed
  (``benchmarks.pack.speed``);
* ``benchmarks.locomo`` — LoCoMo turn retrieval against BM25, dense and mem0;
  ``benchmarks.locomo.memory_recall`` — recall latency over synthetic memories;
* ``benchmarks.micro`` — small single-number benchmarks (embedding and token throughput, search
  latency, vector stores, incremental indexing);
* ``benchmarks.startup`` — CLI, import and MCP server start-up and shutdown times;
* ``benchmarks.team_load`` — concurrent clients on one shared MCP endpoint, PostgreSQL and SQLite;
* ``benchmarks.common`` — what they share: ranking metrics, repository trees from bare mirrors,
  instance arguments, result files.

Run from the repository root with contextos installed (``pip install -e '.[bench]'``), e.g.
``python -m benchmarks.localize --help``. Figures and commands: ``docs/benchmarks.md``. Nothing
here is part of the ``contextos`` package, and nothing happens at import.
"""

"""Micro-benchmarks: one component, one number, each module run on its own with ``python -m``.

* ``embed_throughput`` — chunks per second through the default embedder;
* ``tokens_throughput`` — exact o200k / cl100k token counting, MB/s;
* ``search_latency`` — end-to-end ``Workspace.search`` latency at ~100k chunks;
* ``vector_store`` — numpy exact search against sqlite-vec and usearch HNSW;
* ``incremental`` — re-indexing after one file changes;
* ``redaction_fp`` — ordinary lines that secret redaction changes, in real repositories;
* ``shared_index`` — time to first search on a fresh machine with and without the team's
  shared vectors (``contextos index --push``).

``python -m benchmarks.micro NAME [ARGS...]`` runs ``benchmarks.micro.NAME`` with ``ARGS``.
"""

MODULES = (
    "embed_throughput",
    "tokens_throughput",
    "search_latency",
    "vector_store",
    "incremental",
    "redaction_fp",
    "shared_index",
)

"""Code search over 28 repositories (semble's benchmark): contextos against semble and BM25.

``python -m benchmarks.search`` (``harness.main``) runs the systems and writes one JSON file::

    python -m benchmarks.search --queries ../shared/bench/search/dev.jsonl \\
        --repos ../shared/bench/search/repos-dev.json --mirrors /work/.mirror \\
        --work /work/bench-search --out r.json [--systems contextos-hybrid,bm25] \\
        [--split tune|report|all] [--repo-filter flask,gin] [--no-index-timing]

Modules: ``metric`` (semble's NDCG@10 and the per-repository aggregation, pure), ``data``
(queries, repositories, the fixed tune/report split by repository, checkouts), ``evaluate``
(``RepoRun`` → figures), ``contextos_system``, ``semble_system``, ``bm25_chunks``.

Ranking experiments, in-process and without re-indexing (the indexes in ``WORK/ws`` are reused;
index time is not re-measured)::

    from pathlib import Path
    from benchmarks.search.contextos_system import run_contextos
    from benchmarks.search.data import load_queries, load_repos, select_repos
    from contextos.code.search import SearchConfig

    repos = select_repos(load_repos(Path("../shared/bench/search/repos-dev.json")), "tune")
    queries = load_queries(Path("../shared/bench/search/dev.jsonl"))
    result = run_contextos(repos, queries, Path("/work/bench-search"), "hybrid",
                           SearchConfig(w_dense=0.5))
    print(result["ndcg@10"], result["ndcg@10_by_category"])

``run_contextos`` sets ``CONTEXTOS_HOME`` to ``WORK/home`` (where the bench model is). Tune on
the ``tune`` half and report the ``report`` half. Left out: NDCG@5, file-level metrics, and
any network access.
"""

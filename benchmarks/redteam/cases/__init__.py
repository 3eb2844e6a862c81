"""The attack corpus, one module per area of issue 10, in the order of the report:

1. ``repo_config`` — hostile ``.contextos.toml`` pointing model URLs at a recording server;
2. ``rules_links`` — rules files linked to files outside the workspace;
3. ``leaks`` — secret files, links to them, keys in source, secrets handed to ``remember``;
4. ``odd_files`` — per-file failures (bad names, FIFOs, vanishing files) and ``index_status``;
5. ``kill9`` — ``kill -9`` mid-index and the pool workers left behind;
6. ``faults`` — full disk, corrupt databases, unusable homes, export targets; and
   ``bad_inputs`` — nesting, absurd dates, long paths, bad arguments;
7. ``memory_import`` — atomic import, CRLF and BOM.
"""

from benchmarks.redteam.cases import (
    bad_inputs,
    faults,
    kill9,
    leaks,
    memory_import,
    odd_files,
    repo_config,
    rules_links,
)
from benchmarks.redteam.verdict import Case

__all__ = ["ALL"]

ALL: list[Case] = [
    *repo_config.CASES,
    *rules_links.CASES,
    *leaks.CASES,
    *odd_files.CASES,
    *kill9.CASES,
    *faults.CASES,
    *bad_inputs.CASES,
    *memory_import.CASES,
]

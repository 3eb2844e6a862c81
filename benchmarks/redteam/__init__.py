"""Red-team benchmark (issue 10, "Measured"): an attack corpus run black-box against the
``contextos`` CLI and MCP server, reporting per area how many cases were tried and how many
ended in a clear error, a traceback, a hang, lost data or a leaked secret, plus the redaction
false-positive rate. ``python -m benchmarks.redteam`` runs ``harness.main``; the generated page
is ``docs/security.md``.

* ``verdict`` — outcomes and the rules that judge a CLI run or an MCP reply;
* ``clients`` — the CLI as a subprocess, the MCP server over stdio, a recording HTTP server;
* ``lab`` — temporary homes, environments, canary secrets, small file systems, stray processes;
* ``cases`` — the corpus, one module per area;
* ``report`` — the per-area table and the markdown page;
* ``false_positives`` — the redaction false-positive rate (reused, never duplicated).
"""

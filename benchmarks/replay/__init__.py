"""``python -m benchmarks.replay``: the window of every step of real agent runs, replayed.

Modules: ``data`` (manifest, trajectories from the mirror, the tune/report split), ``facts``
(what a step needs from its history, and whether a window has it), ``baselines`` (truncate and
observation masking), ``harness`` (the CLI, the run, the report).
"""

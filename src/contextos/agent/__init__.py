"""The coding agent: a loop whose every window is built by the context engine (issue 12).

Modules: ``tools`` (what the model can call; ``edits`` and ``shell`` behind it), ``window`` (the
window of one step, also what ``benchmarks.replay`` measures), ``loop`` (the agent), ``stuck``
(repetition detection), ``runs`` (trajectories on disk), ``best_of`` (N candidates in git
worktrees), ``rounds`` (``--until-done``), ``rlm`` (recursive processing of large inputs).
Left out here: re-exports; import the modules.
"""

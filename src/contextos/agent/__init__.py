"""The coding agent: a loop whose every window is built by the context engine (issue 12).

Modules: ``tools`` (what the model can call), ``window`` (the window of one step, also what
``benchmarks.replay`` measures), ``loop`` (the agent). Left out here: re-exports; import the
modules.
"""

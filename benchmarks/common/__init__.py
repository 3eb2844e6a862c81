"""What the benchmarks share.

* ``metrics`` — ranking metrics (Acc@k, MRR) and percentiles, as pure functions;
* ``trees`` — repository trees extracted from bare git mirrors, test-file detection;
* ``instances`` — the arguments and loading of localization instances, shared by
  ``benchmarks.localize`` and ``benchmarks.pack``, and the per-instance work-directory lock;
* ``results`` — writing result JSON atomically, and the machine and commit a run was made on.
"""

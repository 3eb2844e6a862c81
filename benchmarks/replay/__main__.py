"""``python -m benchmarks.replay``: see ``benchmarks.replay.harness``."""

import sys

from benchmarks.replay.harness import main

sys.exit(main())

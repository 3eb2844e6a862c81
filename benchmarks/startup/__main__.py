"""``python -m benchmarks.startup``: see ``benchmarks.startup.harness``."""

import sys

from benchmarks.startup.harness import main

sys.exit(main())

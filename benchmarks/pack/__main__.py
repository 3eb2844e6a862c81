"""``python -m benchmarks.pack``: see ``benchmarks.pack.harness``."""

import sys

from benchmarks.pack.harness import main

sys.exit(main())

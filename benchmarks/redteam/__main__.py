"""``python -m benchmarks.redteam``: see ``benchmarks.redteam.harness``."""

import sys

from benchmarks.redteam.harness import main

sys.exit(main())

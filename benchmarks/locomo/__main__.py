"""``python -m benchmarks.locomo``: see ``benchmarks.locomo.harness``."""

import sys

from benchmarks.locomo.harness import main

sys.exit(main())

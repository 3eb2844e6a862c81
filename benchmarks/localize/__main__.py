"""``python -m benchmarks.localize``: see ``benchmarks.localize.harness``."""

import sys

from benchmarks.localize.harness import main

sys.exit(main())

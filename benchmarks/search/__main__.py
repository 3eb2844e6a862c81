"""``python -m benchmarks.search``: see ``benchmarks.search.harness``."""

import sys

from benchmarks.search.harness import main

sys.exit(main())

"""``python -m benchmarks.team_load``: see ``benchmarks.team_load.harness``."""

import sys

from benchmarks.team_load.harness import main

sys.exit(main())

"""Pipeline benchmark (same as ``roostr bench``): passthrough vs scoring, latency, scale-out.

    python benchmarks/pipeline_bench.py [--json] [--messages N] [--scale-out] [--profile FILE]

The implementation lives in ``consumer/bench.py`` so the installed ``roostr bench`` runs it too.
"""

import sys

from consumer.bench import main

if __name__ == "__main__":
    sys.exit(main())

"""Pipeline benchmark: ``roostr bench`` (passthrough vs scoring, latency, scale-out).

    python benchmarks/pipeline_bench.py [--json] [--messages N] [--scale-out] [--profile FILE]

Takes every ``roostr bench`` flag, the broker connection flags included; the implementation
lives in ``stack/bench.py`` so the installed ``roostr bench`` runs it too.
"""

import sys

from stack.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))

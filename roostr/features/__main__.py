"""``python -m roostr.features [PATH]``: regenerate the feature catalogue (docs/FEATURES.md)."""

import sys
from pathlib import Path

from roostr.features.catalogue import feature_table_markdown

target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/FEATURES.md")
target.parent.mkdir(parents=True, exist_ok=True)
target.write_text(feature_table_markdown(), encoding="utf-8")
print(f"wrote {target}")

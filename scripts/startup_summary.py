"""Median start-up of the frozen and the unfrozen app from the demo's --stats files (dist-check step 3)."""

import json
import statistics
import sys
from pathlib import Path

folder = Path(sys.argv[1])
times = {kind: [json.loads(p.read_text())["startup_seconds"] for p in sorted(folder.glob(f"{kind}-startup-*.json"))]
         for kind in ("frozen", "unfrozen")}
frozen, unfrozen = (statistics.median(times[kind]) for kind in ("frozen", "unfrozen"))
print(f"start-up (process start to window shown), median of {len(times['frozen'])}: frozen {frozen:.2f} s "
      f"{times['frozen']}, unfrozen {unfrozen:.2f} s {times['unfrozen']}, ratio {frozen / unfrozen:.2f}")

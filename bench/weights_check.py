"""How long the safety check of a weights file takes, against Ultralytics' own (unchecked) load of it.

Builds a yolo11l detection model from its YAML (no download), saves it the way Ultralytics publishes
checkpoints (about 50 MB), then, alternating A/B in one process: `check_weights_file` (static listing of
the pickle's globals + torch's restricted weights-only load) and `torch.load(weights_only=False)`, the
load Ultralytics itself does right after. Prints the medians, the ratio, and the file size.
Target: the check well under a second on a 50 MB checkpoint.

    nice python bench/weights_check.py [--rounds 7] [--size l]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--size", default="l", choices=list("nsmlx"))
    args = parser.parse_args()
    os.environ.setdefault("CARDGRADER_HOME", tempfile.mkdtemp(prefix="cardgrader-bench-"))
    from cardgrader.yolo_runtime import configure_environment

    configure_environment()
    import torch
    from ultralytics import YOLO

    from cardgrader.training.safe_weights import check_weights_file

    path = Path(tempfile.mkdtemp()) / f"yolo11{args.size}.pt"
    YOLO(f"yolo11{args.size}.yaml").save(path)
    check_weights_file(path)  # warm: imports of the ultralytics.nn modules it names, page cache
    checks, loads = [], []
    for _ in range(args.rounds):
        t = time.perf_counter()
        check_weights_file(path)
        checks.append(time.perf_counter() - t)
        t = time.perf_counter()
        torch.load(path, map_location="cpu", weights_only=False)
        loads.append(time.perf_counter() - t)
    check, load = statistics.median(checks), statistics.median(loads)
    print(f"checkpoint {path.name}: {path.stat().st_size / 2**20:.1f} MiB, {args.rounds} rounds")
    print(f"check_weights_file   median {check * 1000:7.1f} ms  (min {min(checks) * 1000:.1f}, max {max(checks) * 1000:.1f})")
    print(f"torch.load (unsafe)  median {load * 1000:7.1f} ms")
    print(f"ratio check / load   {check / load:.2f}   target: check < 1 s -> {'met' if check < 1.0 else 'NOT met'}")


if __name__ == "__main__":
    main()

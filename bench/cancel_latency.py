"""Stop latency: how long a run takes to end after Stop, against how long one training batch takes.

Trains a tiny detect model through the engine (as the GUI and CLI do), asks it to stop in the middle
of its second epoch, and measures the time from `cancel()` to the `cancelled` event. The peer figure
is the median interval between the run's own batch events: the engine promises to stop "at the next
batch", so the ratio stop / batch should stay near 1 (target <= 3; a cancel that waited for the end
of the epoch would read as the epoch's remaining batches).

    python bench/cancel_latency.py [--rounds 3] [--images 40] [--imgsz 96]
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import tempfile
import time
from pathlib import Path


def one_round(engine, data: Path, imgsz: int) -> tuple[float, float]:
    from cardgrader.training.config import TrainingConfig

    config = TrainingConfig(data=str(data), epochs=3, batch=2, imgsz=imgsz, plots=False, workers=0, patience=0,
                            augment="light")
    sub = engine.subscribe()
    run_id = engine.start(config)
    batch_times: list[float] = []
    try:
        while True:
            event = sub.get(timeout=300)
            if event.get("run") != run_id:
                continue
            if event["type"] == "batch":
                batch_times.append(time.perf_counter())
                if event["epoch"] == 2 and event["batch"] >= event["batches"] // 2:
                    break
        asked = time.perf_counter()
        engine.cancel(run_id)
        while True:
            event = sub.get(timeout=60)
            if event.get("run") == run_id and event["type"] in ("finished", "failed", "cancelled"):
                break
        took = time.perf_counter() - asked
        if event["type"] != "cancelled":
            raise SystemExit(f"the run ended {event['type']} instead of cancelled")
        engine.wait(run_id, 30)
    finally:
        engine.unsubscribe(sub)
    intervals = [b - a for a, b in zip(batch_times, batch_times[1:])]
    return took, statistics.median(intervals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--imgsz", type=int, default=96)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cardgrader-cancel-") as tmp:
        os.environ["CARDGRADER_HOME"] = str(Path(tmp) / "home")
        from cardgrader.data.sample import write_training_set
        from cardgrader.training.engine import Engine

        data = write_training_set(Path(tmp) / "data", "detect", args.images, 0, (args.imgsz, args.imgsz))
        engine = Engine()
        try:
            rounds = [one_round(engine, data, args.imgsz) for _ in range(args.rounds)]
        except queue.Empty:
            raise SystemExit("no event from the run for too long") from None
        finally:
            engine.shutdown()
    for i, (took, batch) in enumerate(rounds, 1):
        print(f"round {i}: stop took {took:.2f} s; one batch takes {batch:.2f} s; ratio {took / batch:.1f}")
    took = statistics.median(r[0] for r in rounds)
    batch = statistics.median(r[1] for r in rounds)
    verdict = "meets" if took / batch <= 3 else "misses"
    print(f"median: stop {took:.2f} s, batch {batch:.2f} s, ratio {took / batch:.1f} (target <= 3: {verdict})")


if __name__ == "__main__":
    main()

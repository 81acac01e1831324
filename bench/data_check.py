"""Data check speed: our full `cardgrader data check` against Ultralytics' own label verification.

The same 5,000 sample-card photos (640×480 JPEG, YOLO polygon labels: borders, corners, wear) are
generated once and cached. Then, in one run and alternating A/B so drift on a shared machine hits both
alike, it times:

- ours: `cardgrader.data.check.check([folder])` — find the files, read and hash every image, parse every
  label, check each shape, find duplicates, count classes and sides, score the data;
- theirs: `ultralytics.data.utils.verify_image_label` over every image/label pair on a
  `ThreadPool(NUM_THREADS)`, the loop `YOLODataset.cache_labels` runs before it trains.

Prints each time, the medians and the ratio ours / theirs. Target: <= 1.0.

    python bench/data_check.py [--count 5000] [--size 640x480] [--rounds 3] [--cache DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from multiprocessing.pool import ThreadPool
from pathlib import Path

WORK = Path(tempfile.gettempdir()) / "cardgrader-bench"


def prepare(cache: Path, count: int, size: tuple[int, int]) -> Path:
    """The cached sample: generated once per (count, size)."""
    from cardgrader.data.sample import generate

    done = cache / ".complete"
    if not done.exists():
        print(f"Generating {count} sample photos of {size[0]}×{size[1]} into {cache} (once) …", flush=True)
        start = time.perf_counter()
        generate(cache, count=count, seed=0, size=size, defect_rate=0.5)
        done.write_text("ok", encoding="utf-8")
        print(f"  took {time.perf_counter() - start:.0f} s", flush=True)
    return cache


def ultralytics_verify(folder: Path, num_classes: int) -> float:
    from ultralytics.data.utils import img2label_paths, verify_image_label
    from ultralytics.utils import NUM_THREADS

    start = time.perf_counter()
    images = sorted(str(p) for p in (folder / "images").iterdir())
    labels = img2label_paths(images)
    n = len(images)
    args = zip(images, labels, [""] * n, [False] * n, [num_classes] * n, [0] * n, [0] * n, [False] * n)
    corrupt = 0
    with ThreadPool(NUM_THREADS) as pool:
        for result in pool.imap(verify_image_label, args):
            corrupt += result[8]
    took = time.perf_counter() - start
    assert corrupt == 0, f"Ultralytics found {corrupt} corrupt files in the bench data"
    return took


def ours(folder: Path, count: int) -> float:
    from cardgrader.data.check import check

    start = time.perf_counter()
    report = check([folder])
    took = time.perf_counter() - start
    assert report.ok and report.counts["usable"] == count, report.errors[:3]
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--size", default="640x480", metavar="WxH")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", type=Path, help=f"where the photos are kept (default {WORK}/data-check-COUNT-WxH)")
    opts = parser.parse_args()
    size = tuple(int(v) for v in opts.size.lower().split("x"))
    home = WORK / "home"
    os.environ.update(CARDGRADER_HOME=str(home), YOLO_OFFLINE="1", YOLO_CONFIG_DIR=str(home / "ultralytics"))

    from cardgrader.data.progress import default_workers
    from cardgrader.data.sample import SAMPLE_CLASSES
    from ultralytics.utils import NUM_THREADS

    folder = prepare(opts.cache or WORK / f"data-check-{opts.count}-{size[0]}x{size[1]}", opts.count, size)
    ultralytics_verify(folder, len(SAMPLE_CLASSES))  # warm-up: imports and the page cache, untimed
    ours(folder, opts.count)
    times: dict[str, list[float]] = {"ours": [], "theirs": []}
    for round_ in range(1, opts.rounds + 1):
        times["ours"].append(ours(folder, opts.count))
        times["theirs"].append(ultralytics_verify(folder, len(SAMPLE_CLASSES)))
        print(f"round {round_}: ours {times['ours'][-1]:.3f} s, theirs {times['theirs'][-1]:.3f} s", flush=True)
    a, b = statistics.median(times["ours"]), statistics.median(times["theirs"])
    print(f"{opts.count} photos {size[0]}×{size[1]} with labels, {os.cpu_count()} CPUs")
    print(f"  ours   (full check, {default_workers()} reading thread(s)):       median {a:.3f} s  "
          f"({1000 * a / opts.count:.3f} ms a photo)")
    print(f"  theirs (verify_image_label, ThreadPool({NUM_THREADS})): median {b:.3f} s  "
          f"({1000 * b / opts.count:.3f} ms a photo)")
    print(f"  ratio ours/theirs: {a / b:.2f} (target <= 1.0)")


if __name__ == "__main__":
    main()

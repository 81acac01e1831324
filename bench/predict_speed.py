"""Prediction speed per card photo, .pt (PyTorch) against the exported .onnx (onnxruntime), and memory while
`cardgrader predict` streams a folder.

A yolo11n detection model with the card border classes is built from `yolo11n.yaml` (random weights:
latency does not depend on what a model learned; no download), saved as a .pt and exported with
`cardgrader.models.export` (which verifies it). Both run through the same `Predictor` at 640 px on
generated 480x640 card photos, alternating A/B photo by photo in one process; prints the median
per-photo latency of each and the ratio. Then the predict command's own path (`plan` + `predict_files`:
read, predict, draw the overlay, write it and the JSON record) runs over a folder of 200 photos and
prints the peak RSS after 20 and after 200.
Targets: ONNX <= 0.8x the .pt, and <= 100 ms per card either way; peak RSS after 200 within 5 % of after 20.

    nice python bench/predict_speed.py [--rounds 5] [--photos 8] [--stream 200] [--spinning]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

CLASSES = {0: "outer_border", 1: "inner_border"}


def build_model(folder: Path) -> Path:
    """yolo11n with two classes, random weights, saved the way Ultralytics saves a checkpoint."""
    from cardgrader.yolo_runtime import configure_environment

    configure_environment()
    from ultralytics import YOLO
    from ultralytics.nn.tasks import DetectionModel

    model = YOLO("yolo11n.yaml")
    model.model = DetectionModel("yolo11n.yaml", nc=len(CLASSES), verbose=False)
    model.model.names = dict(CLASSES)
    model.model.args = {"imgsz": 640}
    path = folder / "card-yolo11n.pt"
    model.save(path)
    return path


def rss_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def stream(weights: str, source: str, out: str) -> None:
    """The predict command's path over a folder, in this (fresh) process: peak RSS after 20 and after all."""
    from cardgrader.models.predict import Predictor
    from cardgrader.models.predict_files import plan, predict_files
    from cardgrader.models.resolve import resolve_model

    package = resolve_model(weights)
    package.imgsz = 640
    predictor = Predictor(package, device="cpu")
    jobs = plan([Path(source)], Path(out))
    peaks = {}
    start = time.perf_counter()
    for done, _record in enumerate(predict_files(predictor, jobs, conf=0.25), start=1):
        if done in (20, len(jobs)):
            peaks[done] = rss_peak_mib()
    took = time.perf_counter() - start
    first, last = peaks[20], peaks[len(jobs)]
    print(f"predict command path (.pt, fresh process), {len(jobs)} photos: {took / len(jobs) * 1000:.0f} ms per photo "
          f"(read, predict, overlay, write)")
    print(f"peak RSS after 20 photos {first:.0f} MiB, after {len(jobs)} {last:.0f} MiB: ratio {last / first:.3f}  "
          f"(target <= 1.05 -> {'met' if last / first <= 1.05 else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stream-only", nargs=3, metavar=("WEIGHTS", "SOURCE", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=5, help="passes over the photos, A/B order alternating")
    parser.add_argument("--photos", type=int, default=8, help="distinct generated card photos")
    parser.add_argument("--stream", type=int, default=200, help="photos in the streamed folder")
    parser.add_argument("--spinning", action="store_true",
                        help="also time onnxruntime with its default spinning threads (what Predictor turns off)")
    opts = parser.parse_args()
    if opts.stream_only:
        stream(*opts.stream_only)
        return
    work = Path(tempfile.mkdtemp(prefix="cg-bench-predict-"))
    os.environ["CARDGRADER_HOME"] = str(work / "home")
    try:
        from cardgrader.data.sample import render
        from cardgrader.models.export import export_model
        from cardgrader.models.exported import read_onnx
        from cardgrader.models.predict import Predictor
        from cardgrader.models.resolve import resolve_model

        photos = [render(np.random.default_rng(seed), ("front", "back")[seed % 2], (480, 640))[0]
                  for seed in range(opts.photos)]
        pt_package = resolve_model(build_model(work))
        pt_package.imgsz = 640
        exported = export_model(pt_package, "onnx")
        print(f"exported {exported.path.name}: {exported.verification.sentence()}")
        predictors = {".pt": Predictor(pt_package, device="cpu"), ".onnx": Predictor(read_onnx(exported.path), "cpu")}
        if opts.spinning:  # onnxruntime as Ultralytics sets it up, worker threads spinning while they wait
            predictors[".onnx spinning"] = Predictor(read_onnx(exported.path), "cpu")
            predictors[".onnx spinning"]._runtime_tuned = True  # skip Predictor's no-spinning session
        for predictor in predictors.values():  # warm-up: first call builds Ultralytics' predictor, ORT's arenas
            for photo in photos[:2]:
                predictor.predict_image(photo, conf=0.25)
        times: dict[str, list[float]] = {k: [] for k in predictors}
        for round_index in range(opts.rounds):
            order = list(predictors) if round_index % 2 == 0 else list(reversed(predictors))
            for photo in photos:
                for kind in order:  # A then B on the same photo; B then A in the next round
                    start = time.perf_counter()
                    predictors[kind].predict_image(photo, conf=0.25)
                    times[kind].append(time.perf_counter() - start)
        pt, onnx = statistics.median(times[".pt"]), statistics.median(times[".onnx"])
        print(f"yolo11n at 640 px, {len(photos)} card photos 480x640, {opts.rounds} rounds, "
              f"{os.cpu_count()} CPU cores, torch threads {__import__('torch').get_num_threads()}")
        for kind, values in times.items():
            print(f"{kind:15} median {statistics.median(values) * 1000:6.1f} ms per photo  "
                  f"(p10 {np.percentile(values, 10) * 1000:.1f}, p90 {np.percentile(values, 90) * 1000:.1f})")
        print(f"ratio onnx / pt  {onnx / pt:.2f}   target <= 0.8 -> {'met' if onnx / pt <= 0.8 else 'NOT met'}; "
              f"<= 100 ms each -> {'met' if max(pt, onnx) <= 0.1 else 'NOT met'}")

        source = work / "folder"
        source.mkdir()
        for k in range(opts.stream):
            cv2.imwrite(str(source / f"card_{k:04d}.jpg"), photos[k % len(photos)], [cv2.IMWRITE_JPEG_QUALITY, 92])
        # In a fresh process, so the peak is the predict command's and not the export's above.
        child = subprocess.run([sys.executable, __file__, "--stream-only", str(pt_package.weights), str(source),
                                str(work / "predictions")], capture_output=True, text=True, env=os.environ)
        if child.returncode != 0:
            raise SystemExit(child.stderr[-3000:])
        print(child.stdout.strip())
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

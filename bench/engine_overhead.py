"""Engine overhead: one config trained through `cardgrader train` and through Ultralytics' own `yolo train`.

Both run as fresh processes from the same generated dataset with the same Ultralytics arguments (built
by `TrainingConfig.ultralytics_args`), alternating A/B for several rounds so drift on a shared machine
hits both alike. Prints each wall time and the median ratio engine / yolo. Target: <= 1.03.

    python bench/engine_overhead.py [--epochs 15] [--images 80] [--imgsz 160] [--rounds 3]
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

import yaml

from cardgrader.data.sample import write_training_set
from cardgrader.training.config import TrainingConfig


def yolo_command(config: TrainingConfig, data_yaml: Path, project: Path, name: str) -> list[str]:
    args = config.ultralytics_args(data_yaml, project / name)
    args.update(model=config.model_yaml, project=str(project), name=name)
    yolo = Path(sys.executable).with_name("yolo")
    return [str(yolo), "train", *(f"{k}={v}" for k, v in args.items())]


CPU_SECONDS: list[float] = []  # CPU time of each timed command's whole process tree, in call order


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # every waited-for descendant, the training child too
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], env: dict) -> float:
    cpu_before = _children_cpu()
    start = time.perf_counter()
    result = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    CPU_SECONDS.append(_children_cpu() - cpu_before)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--images", type=int, default=80)
    parser.add_argument("--imgsz", type=int, default=160)
    parser.add_argument("--rounds", type=int, default=4)
    opts = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cg-bench-engine-"))
    try:
        home = work / "home"
        env = {**os.environ, "CARDGRADER_HOME": str(home), "YOLO_OFFLINE": "1",
               "YOLO_CONFIG_DIR": str(home / "ultralytics")}
        data_yaml = write_training_set(work / "data", "detect", opts.images, 3, (opts.imgsz, opts.imgsz))
        config = TrainingConfig(data=str(data_yaml), epochs=opts.epochs, batch=16, imgsz=opts.imgsz, workers=0,
                                plots=False, patience=0, augment="medium")
        config_file = work / "bench.yaml"
        config_file.write_text(yaml.safe_dump(config.to_dict()), encoding="utf-8")
        engine_cmd = [sys.executable, "-m", "cardgrader", "train", "--config", str(config_file), "--json"]

        # Warm-up: first imports, dataset caches and the engine's dataset mirror are not what we measure.
        timed(engine_cmd, env)
        timed(yolo_command(config, data_yaml, work / "yolo", "warmup"), env)

        ours, theirs, ours_cpu, theirs_cpu = [], [], [], []
        for i in range(opts.rounds):  # A B then B A: a drift of the machine's speed falls on both alike
            first_ours = i % 2 == 0
            for kind in (("ours", "yolo") if first_ours else ("yolo", "ours")):
                if kind == "ours":
                    ours.append(timed(engine_cmd, env))
                    ours_cpu.append(CPU_SECONDS[-1])
                else:
                    theirs.append(timed(yolo_command(config, data_yaml, work / "yolo", f"r{i}"), env))
                    theirs_cpu.append(CPU_SECONDS[-1])
            print(f"round {i + 1}: engine {ours[-1]:.2f} s ({ours_cpu[-1]:.1f} s CPU)   yolo train {theirs[-1]:.2f} s "
                  f"({theirs_cpu[-1]:.1f} s CPU)   ratio {ours[-1] / theirs[-1]:.3f}")
        ratios = [a / b for a, b in zip(ours, theirs)]
        print(f"{opts.images} images, {opts.epochs} epochs at {opts.imgsz} px, {config.model_yaml}, {opts.rounds} rounds")
        print(f"median engine {statistics.median(ours):.2f} s, median yolo train {statistics.median(theirs):.2f} s")
        print(f"engine overhead ratio, wall time: {statistics.median(ratios):.3f} median of rounds, "
              f"{sum(ours) / sum(theirs):.3f} over all rounds  (target <= 1.03)")
        print(f"engine overhead ratio, CPU time of the process trees: {sum(ours_cpu) / sum(theirs_cpu):.3f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

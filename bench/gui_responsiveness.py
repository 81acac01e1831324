"""GUI responsiveness while training: our engine (a child process) against training on a thread of the
GUI process, the way desktop peers do it.

Both runs use the same window, sample cards, config and Train panel; the same callbacks turn trainer
state into the same events. Only where Ultralytics runs differs. A 10 ms after() probe on the Tk main
thread records how late it fires for the whole training. Prints p99 and max lateness of both, with
start-up time, and the ratios. Targets for ours: p99 <= 10 ms, max <= 50 ms, window visible <= 1.5 s.

    python bench/gui_responsiveness.py            (needs a display; wraps itself in xvfb-run if none)
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def ours(workdir: Path) -> dict:
    stats = workdir / "ours.json"
    env = {**os.environ, "CARDGRADER_HOME": str(workdir / "home-ours"), "XDG_CONFIG_HOME": str(workdir / "cfg")}
    subprocess.run([sys.executable, "-m", "cardgrader", "gui", "--demo", "--stats", str(stats), "--exit-after-train"],
                   env=env, check=True, timeout=900)
    return json.loads(stats.read_text())


def peer(workdir: Path) -> dict:
    """In a fresh process: the demo's window and data, trained by Ultralytics on a thread of this process."""
    stats = workdir / "peer.json"
    env = {**os.environ, "CARDGRADER_HOME": str(workdir / "home-peer"), "XDG_CONFIG_HOME": str(workdir / "cfg")}
    subprocess.run([sys.executable, __file__, "--peer", str(stats)], env=env, check=True, timeout=900)
    return json.loads(stats.read_text())


def run_peer(stats_path: str) -> None:
    from cardgrader.gui.app import MainWindow, _process_start_time
    from cardgrader.gui.demo import DEMO_CONFIG, ensure_sample_cards
    from cardgrader.gui.stats import ResponsivenessProbe
    from cardgrader.training import dataset, events
    from cardgrader.training.child import _Reporter
    from cardgrader.training.config import TrainingConfig
    from cardgrader.yolo_runtime import configure_environment

    launched = _process_start_time()  # from the process's start, as the app measures itself
    window = MainWindow()
    measure: dict = {}
    window.bind("<Map>", lambda _e: measure.setdefault("startup_seconds", round(time.time() - launched, 3)), add="+")
    probe = ResponsivenessProbe(window)
    inbox: queue.Queue = queue.Queue()

    class Sender:  # what the child's pipe does, as a queue inside this process
        def event(self, type_: str, **fields) -> None:
            inbox.put(events.make(type_, "peer", **fields))

        def raw(self, _message: dict) -> None:
            pass

    def drain() -> None:
        while True:
            try:
                event = inbox.get_nowait()
            except queue.Empty:
                break
            window.train_panel.on_event(event)
            if event["type"] in events.TERMINAL:
                measure.update(probe.stop(), run_status=event["type"], progress=window.train_panel.bar.get())
                window.after(2500, finish)
        window.after(50, drain)

    def finish() -> None:
        measure["chart_points"] = window.train_panel.charts.loss.point_count
        Path(stats_path).write_text(json.dumps(measure, indent=2))
        window.bridge.shutdown()
        window.destroy()

    def train(data_yaml: Path, config: TrainingConfig) -> None:
        configure_environment()
        from ultralytics import YOLO

        reporter = _Reporter(Sender(), threading.Event(), config.arch)
        model = YOLO(config.model_yaml)
        for name, callback in reporter.callbacks().items():
            model.add_callback(name, callback)
        run_dir = Path(os.environ["CARDGRADER_HOME"]) / "peer-run"
        model.train(**config.ultralytics_args(data_yaml, run_dir))
        Sender().event(events.FINISHED, metrics=reporter.final_metrics, best=None, epoch=reporter.epochs_done)

    def start() -> None:
        config = TrainingConfig(**DEMO_CONFIG)
        window.data_panel.add_paths([str(ensure_sample_cards())])

        def when_ready() -> None:
            if not window.data_panel.readiness()[0]:
                window.after(200, when_ready)
                return
            window.model_panel.set_config(config)
            window.show_panel("train")
            data_yaml = Path(dataset.build(window.data_panel.run_request(config))["data_yaml"])
            window.after(1000, lambda: begin(data_yaml))

        def begin(data_yaml: Path) -> None:
            probe.start()
            window.train_panel.begin("peer")
            inbox.put(events.make(events.RUN_STARTED, "peer", config={}, epochs=config.epochs, resumed_from_epoch=0))
            threading.Thread(target=train, args=(data_yaml, config), daemon=True).start()

        window.after(300, when_ready)

    window.after(100, start)
    window.after(50, drain)
    window.mainloop()


def main() -> None:
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run"):
        os.execvp("xvfb-run", ["xvfb-run", "-a", "-s", "-screen 0 1400x900x24", sys.executable, *sys.argv])
    workdir = Path(tempfile.mkdtemp(prefix="cg-bench-gui-"))
    try:
        a, b = ours(workdir), peer(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{'':34}{'ours (child process)':>22}{'peer (thread in GUI)':>22}")
    for key, label in (("startup_seconds", "window visible after launch (s)"), ("stall_p99_ms", "main-thread lateness p99 (ms)"),
                       ("stall_max_ms", "main-thread lateness max (ms)"), ("probe_samples", "probe samples"),
                       ("chart_points", "loss chart points"), ("run_status", "run status")):
        print(f"{label:34}{str(a.get(key)):>22}{str(b.get(key)):>22}")
    for key in ("stall_p99_ms", "stall_max_ms"):
        if a.get(key) and b.get(key):
            print(f"{key} ratio ours/peer: {a[key] / b[key]:.2f}")
    print("targets for ours: startup <= 1.5 s, p99 <= 10 ms, max <= 50 ms")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--peer":
        run_peer(sys.argv[2])
    else:
        main()

"""Demo and measurement mode: sample cards go into the real Data panel, a tiny model trains through the
real Start button, and once the run has ended the window is photographed and the figures written."""

from __future__ import annotations

import json
import time
from pathlib import Path

from cardgrader.gui import samples
from cardgrader.gui.tasks import BackgroundTask
from cardgrader.training import events
from cardgrader.training.config import TrainingConfig

DEMO_CONFIG = dict(arch="detect", task="border", side="both", border="dual", epochs=4, batch=8, imgsz=128,
                   patience=0, workers=0, plots=False, augment="light")
SETTLE_MS = 2500  # let the last chart redraws land before the screenshot


def ensure_sample_cards(report=None, cancel=None) -> Path:
    """The demo's own small set of sample cards (drawn once; later demos reuse them)."""
    return samples.ensure(samples.DEMO, report, cancel)


def screenshot(window, path: str | Path) -> Path:
    """A PNG of the window's current contents."""
    from PIL import ImageGrab

    window.update()
    x, y = max(0, window.winfo_rootx()), max(0, window.winfo_rooty())
    right = min(window.winfo_rootx() + window.winfo_width(), window.winfo_screenwidth())
    bottom = min(window.winfo_rooty() + window.winfo_height(), window.winfo_screenheight())
    image = ImageGrab.grab(bbox=(x, y, right, bottom))  # what of the window the screen shows
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


class Demo:
    def __init__(self, window, measure: dict, stats_path: str | None, screenshot_path: str | None, exit_after: bool):
        self.window, self.measure = window, measure
        self.stats_path, self.screenshot_path, self.exit_after = stats_path, screenshot_path, exit_after
        self.run_id: str | None = None
        self.started_at = 0.0
        self.begun = False

    def begin(self) -> None:
        if self.begun:
            return
        self.begun = True
        self.window.show_panel("data")
        self.window.bridge_listen(self._on_event)
        BackgroundTask(self.window, lambda report, cancel: ensure_sample_cards(report, cancel),
                       on_done=self._cards_ready, on_error=self._failed).start()

    def _cards_ready(self, folder: Path) -> None:
        self.window.data_panel.add_paths([str(folder)])
        self.window.after(200, self._wait_for_data)

    def _wait_for_data(self) -> None:
        ready, reason = self.window.data_panel.readiness()
        if not ready:
            if self.window.data_panel.busy:
                self.window.after(200, self._wait_for_data)
            else:
                self._failed(RuntimeError(reason), "")
            return
        self.window.model_panel.set_config(TrainingConfig(**DEMO_CONFIG))
        self.window.model_panel.validate()
        self.window.show_panel("train")  # where Start is, as a grader would
        self.window.after(1000, self._press_start)

    def _press_start(self) -> None:
        self.window.refresh_start_state()
        self.started_at = time.time()
        self.window.train_panel.start_button.invoke()  # the real Start path

    def _on_event(self, event: dict) -> None:
        if event["type"] == events.RUN_STARTED and self.run_id is None:
            self.run_id = event["run"]
        if event.get("run") != self.run_id or event["type"] not in events.TERMINAL:
            return
        probe = self.window.probe.stop() if self.window.probe else {}
        self.measure.update(probe)
        self.measure.update({
            "run_status": event["type"],
            "run": self.run_id,
            "train_seconds": round(time.time() - self.started_at, 2),
            "progress": round(float(self.window.train_panel.bar.get()), 4),
        })
        self.window.after(SETTLE_MS, self._finish)

    def _finish(self) -> None:
        charts = self.window.train_panel.charts
        self.measure["chart_points"] = charts.loss.point_count if charts else 0
        self.measure["metric_points"] = charts.metrics.point_count if charts else 0
        if self.screenshot_path:
            try:
                self.measure["screenshot"] = str(screenshot(self.window, self.screenshot_path))
            except Exception as exc:  # noqa: BLE001 - a missing screen grabber must not lose the stats
                self.measure["screenshot_error"] = f"{type(exc).__name__}: {exc}"
        self._write_stats()
        if self.exit_after:
            self.window.on_close()

    def _failed(self, exc: BaseException, _trace: str) -> None:
        self.measure["run_status"] = "failed"
        self.measure["error"] = str(exc)
        self.window.show_message(f"Demo could not run: {exc}", "error")
        self._write_stats()
        if self.exit_after:
            self.window.on_close()

    def _write_stats(self) -> None:
        if self.stats_path:
            Path(self.stats_path).write_text(json.dumps(self.measure, indent=2), encoding="utf-8")

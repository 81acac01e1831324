"""Measuring the GUI the way a user feels it: how long until the window shows, and how late the main
thread answers while training runs (a repeating 10 ms after() probe; lateness = actual - planned)."""

from __future__ import annotations

import time

PROBE_MS = 10


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q / 100 * (len(ordered) - 1)))))
    return ordered[index]


class ResponsivenessProbe:
    def __init__(self, widget, interval_ms: int = PROBE_MS):
        self.widget, self.interval_ms = widget, interval_ms
        self.lateness_ms: list[float] = []
        self.running = False
        self._planned = 0.0
        self._job = None

    def start(self) -> None:
        self.lateness_ms.clear()
        self.running = True
        self._arm()

    def _arm(self) -> None:
        self._planned = time.perf_counter() + self.interval_ms / 1000
        self._job = self.widget.after(self.interval_ms, self._tick)

    def _tick(self) -> None:
        if not self.running:
            return
        self.lateness_ms.append(max(0.0, (time.perf_counter() - self._planned) * 1000))
        self._arm()

    def stop(self) -> dict:
        self.running = False
        if self._job is not None:
            try:
                self.widget.after_cancel(self._job)
            except Exception:  # noqa: BLE001 - the window may already be closing
                pass
        return self.summary()

    def summary(self) -> dict:
        return {
            "stall_p99_ms": round(percentile(self.lateness_ms, 99), 2),
            "stall_max_ms": round(max(self.lateness_ms, default=0.0), 2),
            "stall_median_ms": round(percentile(self.lateness_ms, 50), 2),
            "probe_samples": len(self.lateness_ms),
        }

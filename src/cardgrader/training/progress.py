"""What a progress display shows, folded from events: one model for the terminal bar and the GUI bar."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from cardgrader.training import events

STATUS_WORDS = {
    events.FINISHED: "Finished",
    events.FAILED: "Failed",
    events.CANCELLED: "Cancelled",
}


def fmt(value: float | None, digits: int = 3) -> str:
    """A loss or metric for display; `-` when there is none (a NaN the trainer produced is stored as None)."""
    return "-" if value is None else f"{value:.{digits}f}"


def format_duration(seconds: float | None) -> str:
    """`4 min 12 s`, `1 h 03 min`, `12 s`."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "-"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@dataclass
class RunProgress:
    """Fold a run's events with `update`; read `fraction`, `eta_seconds` and `text()`."""

    run: str | None = None
    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    batches: int = 0
    losses: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    fraction: float = 0.0
    status: str | None = None  # None while running, else finished / failed / cancelled
    error: str | None = None
    early_stop: bool = False
    _rate_origin: tuple[float, float] | None = None  # (time, fraction) when progress first moved
    _last_time: float | None = None

    def update(self, event: dict, now: float | None = None) -> None:
        now = event.get("time", now or time.time())
        kind = event["type"]
        if kind == events.RUN_STARTED:
            self.run = event["run"]
            self.epochs = int(event["epochs"])
            self.epoch = int(event.get("resumed_from_epoch") or 0)
            self.batch = self.batches = 0
            self.fraction = self.epoch / self.epochs if self.epochs else 0.0
            self.status, self.error, self._rate_origin = None, None, None
        elif kind == events.BATCH:
            self.epoch, self.epochs = int(event["epoch"]), int(event["epochs"])
            self.batch, self.batches = int(event["batch"]), int(event["batches"])
            self.losses = dict(event.get("losses") or {})
            self._advance((self.epoch - 1 + self.batch / max(self.batches, 1)) / max(self.epochs, 1), now)
        elif kind == events.EPOCH:
            self.epoch, self.epochs = int(event["epoch"]), int(event["epochs"])
            self.metrics = dict(event.get("metrics") or {})
            self._advance(self.epoch / max(self.epochs, 1), now)
        elif kind in events.TERMINAL:
            self.status = kind
            self.error = event.get("error")
            self.epoch = int(event.get("epoch") or 0)  # epochs completed, not the one that was under way
            if kind == events.FINISHED:
                self.early_stop = bool(self.epochs) and self.epoch < self.epochs
                self.fraction = 1.0
                if event.get("metrics"):
                    self.metrics = dict(event["metrics"])

    def _advance(self, fraction: float, now: float) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        if self._rate_origin is None:
            self._rate_origin = (now, fraction)
        self.fraction = max(self.fraction, fraction)
        self._last_time = now

    @property
    def eta_seconds(self) -> float | None:
        if self._rate_origin is None or self._last_time is None or self.status is not None:
            return None
        t0, f0 = self._rate_origin
        done = self.fraction - f0
        elapsed = self._last_time - t0
        if done <= 0 or elapsed <= 0:
            return None
        return elapsed / done * (1.0 - self.fraction)

    def text(self) -> str:
        """`Epoch 3/50 · batch 12/40 · 4 min 12 s left`, or the outcome once the run ended."""
        if self.status == events.FINISHED:
            how = "stopped early (no improvement)" if self.early_stop else "finished"
            return f"Training {how} after {self.epoch} of {self.epochs} epochs"
        if self.status == events.CANCELLED:
            return f"Cancelled after {self.epoch} of {self.epochs} epochs; it can be resumed"
        if self.status == events.FAILED:
            return f"Failed: {self.error or 'unknown error'}"
        if not self.epochs:
            return "Starting…"
        if not self.batches:
            return f"Epoch {min(self.epoch + 1, self.epochs)}/{self.epochs} · preparing…"
        eta = self.eta_seconds
        left = f" · {format_duration(eta)} left" if eta is not None else ""
        return f"Epoch {self.epoch}/{self.epochs} · batch {self.batch}/{self.batches}{left}"

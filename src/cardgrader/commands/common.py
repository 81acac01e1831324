"""Helpers every command shares: JSON output, tables, following a run in the terminal."""

from __future__ import annotations

import json
import queue
import signal
import sys
import threading
from typing import Any, Iterable, TextIO

from cardgrader.commands.progress import ProgressBar
from cardgrader.training import events
from cardgrader.training.progress import RunProgress, fmt

EXIT_FOR_STATUS = {events.FINISHED: 0, events.FAILED: 1, events.CANCELLED: 130}


def print_json(value: Any, stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    stream.write(json.dumps(value, ensure_ascii=False, default=str) + "\n")
    stream.flush()


def table(rows: Iterable[Iterable[Any]], headers: list[str]) -> str:
    rows = [["-" if v is None else str(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


class TerminalProgress:
    """A run's progress bar (with its losses) on a terminal; one line per epoch on any stream."""

    def __init__(self, stream: TextIO | None = None):
        self.bar = ProgressBar(stream=stream, width=None)
        self.progress = RunProgress()

    @property
    def live(self) -> bool:
        return self.bar.live

    def show(self, event: dict) -> None:
        self.progress.update(event)
        kind = event["type"]
        if kind == events.LOG and event.get("level") in ("warning", "error"):
            self.line(f"{event['level']}: {event['message']}")
        elif kind == events.RUN_STARTED:
            resumed = event.get("resumed_from_epoch") or 0
            extra = f", resuming after epoch {resumed}" if resumed else ""
            self.line(f"Run {event['run']}: {event['epochs']} epochs{extra}")
        elif kind == events.EPOCH:
            m = event.get("metrics") or {}
            losses = " ".join(f"{k} {fmt(v)}" for k, v in (event.get("train_losses") or {}).items())
            self.line(f"Epoch {event['epoch']}/{event['epochs']}: {losses} · P {fmt(m.get('precision'))} "
                      f"R {fmt(m.get('recall'))} mAP50 {fmt(m.get('mAP50'))} mAP50-95 {fmt(m.get('mAP50_95'))}")
        elif kind in events.TERMINAL:
            self.line(self.progress.text())
            return
        if kind == events.BATCH:
            p = self.progress
            epoch, _, batch = p.text().partition(" · ")  # the epoch is the message: a new one draws at once
            losses = " ".join(f"{k.replace('_loss', '')} {fmt(v)}" for k, v in p.losses.items())
            self.bar.draw(p.fraction, epoch, " · ".join(part for part in (batch, losses) if part))

    def line(self, text: str) -> None:
        self.bar.line(text)


def follow_run(engine, subscription: queue.Queue, run_id: str, as_json: bool) -> int:
    """Show a run's events until it ends; Ctrl-C cancels it cleanly. Returns the exit code."""
    display = None if as_json else TerminalProgress()
    stopping = []

    def on_interrupt(_signum, _frame) -> None:
        if not stopping:
            stopping.append(True)
            engine.cancel(run_id)
            if display:
                display.line("Stopping… (the run stays resumable)")

    previous = signal.signal(signal.SIGINT, on_interrupt) if threading.current_thread() is threading.main_thread() else None
    try:
        final = engine.follow(subscription, run_id, print_json if as_json else display.show)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if final["type"] == events.FAILED and not as_json:
        print(f"cardgrader: {final.get('error')}", file=sys.stderr)
    elif final["type"] == events.FINISHED and not as_json:
        print(f"Model package: {final.get('model')}")
    return EXIT_FOR_STATUS[final["type"]]

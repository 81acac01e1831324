"""Helpers every command shares: JSON output, tables, following a run in the terminal."""

from __future__ import annotations

import json
import queue
import shutil
import signal
import sys
import threading
from typing import Any, Iterable, TextIO

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
    """A one-line progress bar on a terminal; one line per epoch when the output is not a terminal."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.progress = RunProgress()
        self._drawn = False

    def show(self, event: dict) -> None:
        self.progress.update(event)
        kind = event["type"]
        if kind == events.LOG and event.get("level") in ("warning", "error"):
            self._line(f"{event['level']}: {event['message']}")
        elif kind == events.RUN_STARTED:
            resumed = event.get("resumed_from_epoch") or 0
            extra = f", resuming after epoch {resumed}" if resumed else ""
            self._line(f"Run {event['run']}: {event['epochs']} epochs{extra}")
        elif kind == events.EPOCH:
            m = event.get("metrics") or {}
            losses = " ".join(f"{k} {fmt(v)}" for k, v in (event.get("train_losses") or {}).items())
            self._line(f"Epoch {event['epoch']}/{event['epochs']}: {losses} · P {fmt(m.get('precision'))} "
                       f"R {fmt(m.get('recall'))} mAP50 {fmt(m.get('mAP50'))} mAP50-95 {fmt(m.get('mAP50_95'))}")
        elif kind in events.TERMINAL:
            self._line(self.progress.text())
            return
        if kind == events.BATCH and self.live:
            self._bar()

    def _bar(self) -> None:
        p = self.progress
        width = max(10, min(30, shutil.get_terminal_size((100, 20)).columns - 90))
        filled = int(round(p.fraction * width))
        losses = " ".join(f"{k.replace('_loss', '')} {fmt(v)}" for k, v in p.losses.items())
        text = f"\r[{'#' * filled}{'.' * (width - filled)}] {p.fraction * 100:5.1f}% {p.text()} · {losses}"
        self.stream.write(text[: shutil.get_terminal_size((120, 20)).columns - 1].ljust(40) + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def _line(self, text: str) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self._drawn = False
        self.stream.write(text + "\n")
        self.stream.flush()


def follow_run(engine, subscription: queue.Queue, run_id: str, as_json: bool) -> int:
    """Show a run's events until it ends; Ctrl-C cancels it cleanly. Returns the exit code."""
    display = None if as_json else TerminalProgress()
    stopping = []

    def on_interrupt(_signum, _frame) -> None:
        if not stopping:
            stopping.append(True)
            engine.cancel(run_id)
            if display:
                display._line("Stopping… (the run stays resumable)")

    previous = signal.signal(signal.SIGINT, on_interrupt) if threading.current_thread() is threading.main_thread() else None
    final = None
    try:
        while final is None:
            try:
                event = subscription.get(timeout=0.2)
            except queue.Empty:
                continue
            if event.get("run") != run_id:
                continue
            if as_json:
                print_json(event)
            else:
                display.show(event)
            if event["type"] in events.TERMINAL:
                final = event
        engine.wait(run_id, timeout=30)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if final["type"] == events.FAILED and not as_json:
        print(f"cardgrader: {final.get('error')}", file=sys.stderr)
    elif final["type"] == events.FINISHED and not as_json:
        print(f"Model package: {final.get('model')}")
    return EXIT_FOR_STATUS[final["type"]]

"""Work off the main thread: a worker runs the job, the Tk main thread polls its result with after().

The worker never touches a widget; it may report progress through `report(fraction, text)`, which the
main thread picks up on its next poll.
"""

from __future__ import annotations

import queue
import sys
import threading
import traceback
from typing import Any, Callable

POLL_MS = 40


class BackgroundTask:
    """Run `job(report, cancel_event)` on a thread; call back on the Tk main thread."""

    def __init__(self, widget, job: Callable, on_done: Callable[[Any], None] | None = None,
                 on_error: Callable[[BaseException, str], None] | None = None,
                 on_progress: Callable[[float | None, str], None] | None = None):
        self.widget, self.job = widget, job
        self.on_done, self.on_error, self.on_progress = on_done, on_error, on_progress
        self.cancel_event = threading.Event()
        self._progress: queue.Queue = queue.Queue()
        self._result: list = []
        self._thread = threading.Thread(target=self._run, name="cardgrader-task", daemon=True)

    def start(self) -> BackgroundTask:
        self._thread.start()
        self.widget.after(POLL_MS, self._poll)
        return self

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() or not self._result

    def _report(self, fraction: float | None, text: str = "") -> None:
        self._progress.put((fraction, text))

    def _run(self) -> None:
        try:
            self._result.append(("ok", self.job(self._report, self.cancel_event), ""))
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread as a message
            self._result.append(("error", exc, traceback.format_exc()))

    def _poll(self) -> None:
        latest = None
        while True:
            try:
                latest = self._progress.get_nowait()
            except queue.Empty:
                break
        try:
            if latest is not None and self.on_progress:
                self.on_progress(*latest)
            if self._result:
                kind, value, trace = self._result[0]
                if kind == "ok":
                    if self.on_done:
                        self.on_done(value)
                elif self.on_error:
                    self.on_error(value, trace)
                return
        except Exception:  # noqa: BLE001
            if self._widget_alive():
                self.widget._root().report_callback_exception(*sys.exc_info())  # the app logs and shows it
            return  # a widget that is gone (the window closed meanwhile) needs nothing more
        self.widget.after(POLL_MS, self._poll)

    def _widget_alive(self) -> bool:
        try:
            return bool(self.widget.winfo_exists())
        except Exception:  # noqa: BLE001 - Tk itself is gone
            return False

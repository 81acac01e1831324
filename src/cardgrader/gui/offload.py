"""Jobs the GUI hands to a separate process because they import torch and Ultralytics: keeping them
out of the window's process keeps start-up light, the GIL free, and PIL as Pillow made it."""

from __future__ import annotations

import multiprocessing
import threading
import time

from cardgrader.errors import Cancelled


def validation_report(model: str, folder: str, method: str) -> tuple[dict, str]:
    """In the child: `ps validate` for the Photometric panel; returns the report and its folder."""
    from cardgrader.photometric.validate import validate

    result = validate(model, folder, method=method)
    return result.report, str(result.folder)


def run_in_process(function, *args, cancel: threading.Event | None = None, poll: float = 0.1):
    """Call `function(*args)` in a spawned process and return its result (its exception is re-raised);
    setting `cancel` ends the process."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        pending = pool.apply_async(function, args)
        while not pending.ready():
            if cancel is not None and cancel.is_set():
                pool.terminate()
                raise Cancelled("Stopped; nothing was written.")
            time.sleep(poll)
        return pending.get()


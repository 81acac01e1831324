"""Jobs the GUI hands to a separate process because they import torch and Ultralytics: keeping them
out of the window's process keeps start-up light, the GIL free, and PIL as Pillow made it."""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing.connection import wait

from cardgrader.errors import Cancelled, UserError


def validation_report(model: str, folder: str, method: str) -> tuple[dict, str]:
    """In the child: `ps validate` for the Photometric panel; returns the report and its folder."""
    from cardgrader.photometric.validate import validate

    result = validate(model, folder, method=method)
    return result.report, str(result.folder)


def _child(function, args, conn, reports: bool) -> None:
    try:
        if reports:  # the function streams plain values back as it goes
            conn.send(("ok", function(*args, report=lambda value: conn.send(("report", value)))))
        else:
            conn.send(("ok", function(*args)))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent as a value
        conn.send(("error", exc))
    finally:
        conn.close()


def run_in_process(function, *args, cancel: threading.Event | None = None, report=None, poll: float = 0.1):
    """Call `function(*args)` in a spawned process and return its result (its exception is re-raised);
    setting `cancel` ends the process, and a process that dies (out of memory, a crash) is reported.

    With `report`, the function is called as `function(*args, report=...)` and every plain value it
    reports is handed to `report(value)` here, on the calling thread, as it arrives."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(function, args, send, report is not None), daemon=True)
    process.start()
    send.close()
    try:
        while True:
            if cancel is not None and cancel.is_set():
                raise Cancelled("Stopped; nothing was written.")
            ready = wait([receive, process.sentinel], timeout=poll)
            if receive in ready:
                try:
                    kind, value = receive.recv()
                except EOFError:
                    kind, value = "died", None
                if kind == "report":
                    report(value)
                    continue
                if kind == "ok":
                    return value
                if kind == "error":
                    raise value
            if process.sentinel in ready and not receive.poll():
                raise UserError(f"The worker process ended unexpectedly (exit code {process.exitcode}); "
                                "the computer may have run out of memory.")
    finally:
        if process.is_alive():
            process.terminate()
        process.join(timeout=5)
        receive.close()

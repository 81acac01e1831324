"""The entry point of the packaged app (PyInstaller's script) and of `python -m cardgrader`.

A double-clicked app on Windows or macOS has no console: `sys.stdout` and `sys.stderr` are None, and
Ultralytics' logger and tqdm write to them (and crash) the moment they are imported. So before anything
else is imported, streams that are missing go to `logs/app-output.log` in the data dir. This happens
ahead of `multiprocessing.freeze_support()` on purpose: in the frozen app the training child and the
checks run inside `freeze_support()` (it never returns there), and they need the streams too. Then the
usual command line runs; with no arguments that is the GUI.
"""

from __future__ import annotations

import multiprocessing
import sys

LOG_NAME = "app-output.log"


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def ensure_streams() -> str | None:
    """Point missing stdout/stderr at the log file; returns its path when it did."""
    if sys.stdout is not None and sys.stderr is not None:
        return None
    from cardgrader import paths

    try:
        handle = open(paths.logs_dir() / LOG_NAME, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - lives as long as the process
    except OSError:
        import os

        handle = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    if sys.stdout is None:
        sys.stdout = handle
    if sys.stderr is None:
        sys.stderr = handle
    return handle.name


def launch(argv: list[str] | None = None) -> int:
    ensure_streams()
    multiprocessing.freeze_support()
    from cardgrader.cli import main

    return main(argv)

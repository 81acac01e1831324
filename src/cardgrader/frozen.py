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

from cardgrader.streams import LOG_NAME, ensure_streams

__all__ = ["LOG_NAME", "ensure_streams", "is_frozen", "launch"]  # the first two live in `streams`


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def launch(argv: list[str] | None = None) -> int:
    ensure_streams()
    multiprocessing.freeze_support()
    from cardgrader.cli import main

    return main(argv)

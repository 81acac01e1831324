"""Standard streams for a process that has none: a windowed app (PyInstaller's on Windows or macOS, or the
`cardgrader-gui` launcher) starts with `sys.stdout` and `sys.stderr` set to None, and Ultralytics' logger
and tqdm crash on the first write. `ensure_streams` points the missing ones at `logs/app-output.log` in
the data dir. It imports nothing heavy, so the entry points (`frozen.launch`, `cli.gui_main`) call it
before anything else.
"""

from __future__ import annotations

import sys

LOG_NAME = "app-output.log"


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

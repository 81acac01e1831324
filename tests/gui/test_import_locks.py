"""The window's process imports psutil on the main thread at start-up. A worker's first `import psutil`
holds its import lock; if the garbage collector then frees a Tk image on that worker, the worker waits for
the main thread, and a main-thread timer importing psutil then waits for the worker: the window froze."""

from __future__ import annotations

import subprocess
import sys


def test_psutil_is_imported_with_the_window_module():
    code = "import sys; import cardgrader.gui.app; print('psutil' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"

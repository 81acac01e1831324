"""Can this machine show the GUI? Used by `cardgrader doctor` (only this package may import Tk)."""

from __future__ import annotations

import os
import sys


def tk_status() -> dict:
    out = {"tk_ok": False, "tk_detail": "", "tkdnd_ok": False, "tkdnd_detail": "", "display_ok": False, "display_detail": ""}
    try:
        import tkinter

        out["tk_ok"], out["tk_detail"] = True, f"Tk {tkinter.TkVersion}"
    except ImportError as exc:
        out["tk_detail"] = f"tkinter is missing ({exc}); install your Python's Tk support (e.g. apt install python3-tk)"
        return out
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        out["display_detail"] = "no DISPLAY: the GUI needs a desktop session (or xvfb-run); the CLI works without one"
        out["tkdnd_detail"] = "not checked without a display"
        return out
    try:
        root = tkinter.Tk()
        root.withdraw()
    except tkinter.TclError as exc:
        out["display_detail"] = f"cannot open a window: {exc}"
        out["tkdnd_detail"] = "not checked without a display"
        return out
    out["display_ok"], out["display_detail"] = True, os.environ.get("DISPLAY", "desktop session")
    try:
        from tkinterdnd2 import TkinterDnD

        TkinterDnD._require(root)
        out["tkdnd_ok"], out["tkdnd_detail"] = True, f"tkdnd {root.tk.call('package', 'require', 'tkdnd')}"
    except Exception as exc:  # noqa: BLE001
        out["tkdnd_detail"] = f"drag and drop unavailable ({exc}); Browse buttons still work"
    finally:
        root.destroy()
    return out

"""Tk objects freed by the garbage collector on a worker thread are deleted on the Tk main thread.

Python's cyclic garbage collector runs on whichever thread happens to allocate when a collection is
due. A CustomTkinter widget that was destroyed leaves fonts, images and variables in reference cycles,
so their finalizers (`font delete`, `image delete`, `unset`) often run on a worker thread: a data scan,
a prediction, the engine's loop. Tcl hands such a call to the main thread and the worker waits for it
— measured here: a re-scan after the Data panel was cleared stalled 10 s in `Font.__del__`, and under
load a test waited 120 s. Only the Tk main thread may talk to Tk (see docs/ARCHITECTURE.md), so
`install` makes these finalizers, off the main thread, queue the deletion for the main thread instead;
the window drains that queue a few times a second.
"""

from __future__ import annotations

import collections
import threading
import tkinter
import tkinter.font
from types import SimpleNamespace
from typing import Callable

DRAIN_MS = 200

_pending: collections.deque[Callable[[], None]] = collections.deque()
_installed = False


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _deferred(cls: type, attributes: tuple[str, ...]) -> None:
    """Replace `cls.__del__`: on the main thread as before; elsewhere the same finalizer runs later on
    the main thread, on a stand-in holding the attributes it reads (the object itself is not revived)."""
    original = cls.__del__

    def __del__(self) -> None:
        if _on_main_thread():
            original(self)
            return
        stand_in = SimpleNamespace(**{name: getattr(self, name, None) for name in attributes})
        _pending.append(lambda: original(stand_in))

    cls.__del__ = __del__


def _deferred_pil(cls: type) -> None:
    """PIL's ImageTk images delete their Tk image through a private attribute: take it over here."""
    original = cls.__del__
    private = f"_{cls.__name__}__photo"

    def __del__(self) -> None:
        if _on_main_thread():
            original(self)
            return
        photo = getattr(self, private, None)
        name = getattr(photo, "name", None)
        if photo is None or not name:
            return
        photo.name = None  # the Tk image is deleted below, once, on the main thread

        def delete() -> None:
            try:
                photo.tk.call("image", "delete", name)
            except Exception:  # noqa: BLE001 - the window may be gone already
                pass

        _pending.append(delete)

    cls.__del__ = __del__


def install() -> None:
    """Patch the finalizers once per process (before the first window is built)."""
    global _installed
    if _installed:
        return
    _installed = True
    _deferred(tkinter.font.Font, ("delete_font", "_call", "name"))
    _deferred(tkinter.Image, ("name", "tk"))
    _deferred(tkinter.Variable, ("_tk", "_name", "_tclCommands"))
    try:
        from PIL import ImageTk
    except ImportError:  # pragma: no cover - pillow is a dependency
        return
    for cls in (ImageTk.PhotoImage, ImageTk.BitmapImage):
        _deferred_pil(cls)


def drain() -> int:
    """Run the finalizers queued by other threads (main thread only); returns how many ran."""
    count = 0
    while _pending:
        finalizer = _pending.popleft()
        try:
            finalizer()
        except Exception:  # noqa: BLE001 - a finalizer's failure is ignored, as Python ignores it in __del__
            pass
        count += 1
    return count


def keep_draining(root) -> None:
    """Drain the queue every DRAIN_MS on `root`'s event loop for as long as the window lives."""

    def tick() -> None:
        drain()
        try:
            root.after(DRAIN_MS, tick)
        except tkinter.TclError:  # the window was destroyed
            pass

    root.after(DRAIN_MS, tick)


def pending() -> int:
    return len(_pending)

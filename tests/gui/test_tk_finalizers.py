"""Tk objects the garbage collector frees on a worker thread are deleted on the Tk main thread: the
worker never waits for Tk (it used to stall a data scan for 10 s), and nothing is leaked."""

from __future__ import annotations

import threading
import tkinter.font

import pytest
from PIL import Image, ImageTk

from cardgrader.gui import tk_finalizers
from tests.gui.conftest import pump

pytestmark = pytest.mark.gui


def free_on_a_worker(holder: list) -> threading.Thread:
    def drop_last_reference() -> None:
        holder.clear()  # the finalizers run here, on the worker

    worker = threading.Thread(target=drop_last_reference)
    worker.start()
    return worker


def test_a_font_image_and_variable_freed_on_a_worker_are_deleted_on_the_main_thread(app):
    pump(app, 0.5)
    font = tkinter.font.Font(root=app, family="TkDefaultFont", size=11)
    photo = ImageTk.PhotoImage(Image.new("RGB", (8, 8)), master=app)
    variable = tkinter.StringVar(master=app, value="x")
    names = (font.name, str(photo), str(variable))
    holder = [font, photo, variable]
    del font, photo, variable
    worker = free_on_a_worker(holder)
    worker.join(timeout=5)  # the main thread serves no Tk events meanwhile: a Tk call would block the worker
    assert not worker.is_alive(), "the worker waited for the Tk main thread"
    assert tk_finalizers.pending() >= 3
    assert names[0] in app.tk.splitlist(app.tk.call("font", "names"))  # not deleted yet
    assert names[1] in app.tk.splitlist(app.tk.call("image", "names"))
    tk_finalizers.drain()
    assert names[0] not in app.tk.splitlist(app.tk.call("font", "names"))
    assert names[1] not in app.tk.splitlist(app.tk.call("image", "names"))
    assert not app.tk.getboolean(app.tk.call("info", "exists", names[2]))
    assert tk_finalizers.pending() == 0


def test_on_the_main_thread_they_are_deleted_at_once(app):
    font = tkinter.font.Font(root=app, family="TkDefaultFont", size=12)
    name = font.name
    del font
    assert name not in app.tk.splitlist(app.tk.call("font", "names"))

"""Small widget behaviour: a progress bar at 0 % shows no dot of its fill colour."""

from __future__ import annotations

import customtkinter as ctk

from cardgrader.gui.widgets import show_progress


def test_an_empty_progress_bar_draws_no_dot(app):
    bar = ctk.CTkProgressBar(app)
    fill = bar.cget("progress_color")
    show_progress(bar, 0.0)
    assert bar.cget("progress_color") == bar.cget("fg_color") != fill  # CTk draws its rounded end at 0 %
    show_progress(bar, 0.4)
    assert bar.cget("progress_color") == fill and abs(bar.get() - 0.4) < 1e-6
    show_progress(bar, None)
    assert bar.cget("progress_color") == fill
    bar.stop()
    bar.destroy()

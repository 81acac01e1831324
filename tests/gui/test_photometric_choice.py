"""The Photometric panel after a new folder is chosen: the last capture's results go (no "Save outputs…"
that would write them under the new name), a folder that is not a capture is said at once in the window's
words, the sample capture says what it holds, not "Done.", and the summary names the method as its button does."""

from __future__ import annotations

from tests.gui.conftest import click_segment, pump


def test_a_new_folder_clears_the_old_results_and_a_non_capture_is_said_at_once(app, tmp_path):
    app.show_panel("photometric")
    panel = app.panel("photometric")
    panel.use_sample()
    pump(app, until=lambda: panel.folder is not None and panel.task is None, timeout=60)
    assert panel.progress_text.cget("text") == "8 lit photos and their lights: press Solve."  # not "Done."
    click_segment(panel.method, "Least squares")
    panel.solve_button.invoke()
    pump(app, until=lambda: panel.task is None and panel.analysis is not None, timeout=120)
    assert " · Least squares · " in panel.summary.cget("text") and " l2 " not in panel.summary.cget("text")
    assert panel.save_button.cget("state") == "normal" and panel.pictures.winfo_children()

    notes = tmp_path / "not a capture"
    notes.mkdir()
    (notes / "photo.png").write_bytes(b"")
    panel.set_folder(notes)
    pump(app, 0.2)
    assert panel.analysis is None and not panel.pictures.winfo_children()
    assert panel.save_button.cget("state") == "disabled" and panel.solve_button.cget("state") == "disabled"
    assert panel.summary.cget("text").startswith("Solve a capture")
    said = panel.progress_text.cget("text")
    assert str(notes) in said and "lights.json" in said and "--lights" not in said

"""The Data panel on sources that hold no card photo, and on a dataset dropped with its own images/
folder: no score, a plain sentence, and no talk of backgrounds or of files to fix that are not there."""

from __future__ import annotations

from tests.gui.conftest import drop, pump


def _drop(app, paths) -> str:
    panel = app.data_panel
    panel.clear()
    drop(panel.drop_zone, [str(p) for p in paths])
    pump(app, until=lambda: panel.task is None and panel.report is not None, timeout=60)
    pump(app, 0.2)
    return panel.findings_box.get("1.0", "end")


def test_an_empty_folder_and_a_folder_of_notes_have_no_score_and_say_why(app, tmp_path):
    empty, notes = tmp_path / "empty", tmp_path / "notes"
    empty.mkdir()
    notes.mkdir()
    (notes / "readme.md").write_text("# my cards\n")
    (notes / "todo.txt").write_text("photograph the cards\n")
    for folder in (empty, notes):
        shown = _drop(app, [folder])
        panel = app.data_panel
        assert panel.score_label.cget("text") == "–"  # was 42
        assert "No card photos were found, so there is nothing to score or train on" in shown
        assert "Fix or remove" not in shown and "backgrounds" not in panel.sources_label.cget("text")
        assert "Nothing usable" in panel.sources_label.cget("text")
        assert not panel.readiness()[0]


def test_a_dataset_dropped_with_its_own_images_folder_says_that_folder_adds_nothing(app, tmp_path):
    from cardgrader.data.sample import generate

    generate(tmp_path / "cards", count=4, seed=3, size=(160, 200))
    _drop(app, [tmp_path / "cards", tmp_path / "cards" / "images"])
    sources = app.data_panel.sources_label.cget("text")
    assert f"{tmp_path / 'cards' / 'images'} — Already included: its 4 images are labelled in {tmp_path / 'cards'}" \
        in sources
    assert "backgrounds" not in sources and app.data_panel.score_label.cget("text").isdigit()

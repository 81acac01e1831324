"""The close prompt ("A model is training. Stop it and close the app?") goes away by itself once the run it
asks about has finished behind it."""

from __future__ import annotations

import time

from tests.gui.conftest import pump


def test_a_question_that_stopped_mattering_closes_itself_as_a_yes(app):
    from cardgrader.gui.dialogs import ConfirmDialog

    ends = time.time() + 1.0  # the "run" finishes a second after the question
    seen = []
    app.after(300, lambda: seen.extend(w for w in app.winfo_children() if isinstance(w, ConfirmDialog)))
    started = time.time()
    answer = app.confirm("Training in progress", "A model is training. Stop it and close the app?",
                         yes="Stop and close", still_needed=lambda: time.time() < ends)
    waited = time.time() - started
    assert seen and seen[0].moot and answer is True
    assert not seen[0].winfo_exists() and waited >= 0.9  # not before the run ended
    pump(app, 0.1)


def test_a_question_still_needed_waits_for_the_answer(app):
    from cardgrader.gui.dialogs import ConfirmDialog

    def answer_no():
        [dialog] = [w for w in app.winfo_children() if isinstance(w, ConfirmDialog)]
        assert not dialog.moot
        dialog.no_button.invoke()

    app.after(800, answer_no)
    assert app.confirm("Training in progress", "Stop it?", still_needed=lambda: True) is False

"""The Train panel's log: every line keeps the time it was written through filtering and searching, a
multi-line message has its time on every line, and each run shows its own log only."""

from __future__ import annotations

import time

from cardgrader.training import events
from tests.gui.conftest import click_segment, pump, type_into


def _log(run: str, when: float, level: str, message: str) -> dict:
    return {"type": events.LOG, "run": run, "time": when, "level": level, "message": message}


def test_log_lines_keep_their_time_and_each_run_has_its_own_log(app):
    train = app.train_panel
    app.show_panel("train")
    earlier = time.time() - 3 * 3600 - 17  # hours ago: a re-stamp with the current time would show
    stamp = time.strftime("%H:%M:%S", time.localtime(earlier))
    history = [_log("run-a", earlier, "info", "Preparing the dataset"),
               _log("run-a", earlier + 1, "warning", "Few images\nthe second line of the warning"),
               _log("run-a", earlier + 2, "error", "It failed")]
    saved = train.run_id, train.progress  # the panel's state, put back after (other tests follow real runs)
    try:
        train.begin("run-a", history=history)
        pump(app, 0.2)
        lines = [line for line in train.visible_log().splitlines() if line.strip()]
        later = time.strftime("%H:%M:%S", time.localtime(earlier + 1))
        assert lines == [f"{stamp}  Preparing the dataset", f"{later}  Few images",
                         f"{later}  the second line of the warning",
                         f"{time.strftime('%H:%M:%S', time.localtime(earlier + 2))}  It failed"]
        click_segment(train.level, "Warnings")
        pump(app, 0.1)
        assert [line for line in train.visible_log().splitlines() if line.strip()] == lines[1:]
        click_segment(train.level, "All")
        type_into(train.search, "dataset")
        pump(app, 0.1)
        assert train.visible_log().strip() == f"{stamp}  Preparing the dataset"  # not re-stamped with now
        type_into(train.search, "")
        train.begin("run-b", history=[_log("run-b", earlier + 5, "info", "Run b's first line")])
        pump(app, 0.1)
        assert "It failed" not in train.visible_log() and "Run b's first line" in train.visible_log()
    finally:
        train.run_id, train.progress = saved
        train._clear_log()
        train.stop_button.configure(state="disabled")
        app.refresh_start_state()

"""The progress model shared by the terminal bar and the GUI bar."""

from __future__ import annotations

from cardgrader.training import events
from cardgrader.training.progress import RunProgress, format_duration


def _batch(epoch, batch, t, batches=10, epochs=5):
    return {**events.make(events.BATCH, "r", epoch=epoch, epochs=epochs, batch=batch, batches=batches,
                          losses={"box_loss": 1.0}), "time": t}


def test_fraction_text_and_eta_follow_batches():
    p = RunProgress()
    p.update({**events.make(events.RUN_STARTED, "r", config={}, epochs=5, resumed_from_epoch=0), "time": 0})
    assert p.fraction == 0 and p.text() == "Epoch 1/5 · preparing…"
    p.update(_batch(1, 1, 10.0))
    p.update(_batch(1, 6, 15.0))  # 5 batches in 5 s: 1 s per batch, 44 batches to go
    assert abs(p.fraction - 0.12) < 1e-9
    assert abs(p.eta_seconds - 44.0) < 1e-6
    assert p.text() == "Epoch 1/5 · batch 6/10 · 44 s left"


def test_resumed_runs_start_from_their_epoch_and_endings_are_truthful():
    p = RunProgress()
    p.update({**events.make(events.RUN_STARTED, "r", config={}, epochs=4, resumed_from_epoch=2), "time": 0})
    assert p.fraction == 0.5
    p.update(_batch(3, 5, 1.0, epochs=4))  # epoch 3 under way, then Stop: 2 epochs were completed
    p.update(events.make(events.CANCELLED, "r", metrics={}, best=None, epoch=2))
    assert p.text() == "Cancelled after 2 of 4 epochs; it can be resumed"
    p.update(events.make(events.FINISHED, "r", metrics={"mAP50": 0.9}, best=None, epoch=3))
    assert p.fraction == 1.0 and "stopped early" in p.text()
    p.update(events.make(events.FAILED, "r", metrics={}, best=None, error="Out of memory.", epoch=1))
    assert p.text() == "Failed: Out of memory."


def test_durations_read_like_a_person_wrote_them():
    assert [format_duration(s) for s in (5, 252, 3780, None)] == ["5 s", "4 min 12 s", "1 h 03 min", "-"]

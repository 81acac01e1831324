"""The terminal's one progress line (cardgrader.commands.progress.ProgressBar) and the commands that draw it."""

from __future__ import annotations

import io

from cardgrader.commands.common import TerminalProgress
from cardgrader.commands.progress import CLEAR, ProgressBar


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_draws_bar_fraction_message_and_extra_on_a_terminal_and_clears_at_the_end():
    terminal = FakeTerminal()
    with ProgressBar(stream=terminal, width=10) as bar:
        assert bar.live
        bar(0.3, "reading photos", "box 1.234")
        bar.counts(5, 10, "checking labels")
    out = terminal.getvalue()
    assert "\r[###.......]  30.0% reading photos · box 1.234\x1b[K" in out
    assert "\r[#####.....]  50.0% checking labels · 5/10\x1b[K" in out
    assert out.endswith(CLEAR)


def test_draws_nothing_where_the_stream_is_no_terminal_or_it_is_disabled():
    pipe, terminal = io.StringIO(), FakeTerminal()
    for bar in (ProgressBar(stream=pipe), ProgressBar(False, terminal)):
        assert not bar.live
        bar(0.5, "solving")
        bar.counts(3, 4, "reading")
        bar.close()
    assert pipe.getvalue() == "" and terminal.getvalue() == ""
    ProgressBar(stream=pipe).line("Epoch 1/2: box 1.0")  # a permanent line is written on any stream
    assert pipe.getvalue() == "Epoch 1/2: box 1.0\n"


def test_redraws_are_rate_limited_but_a_new_message_cell_or_the_end_draws_at_once():
    terminal, clock = FakeTerminal(), Clock()
    bar = ProgressBar(stream=terminal, width=10, interval=0.1, clock=clock)
    bar(0.50, "step")
    bar(0.51, "step")  # same cell, same message, too soon: skipped
    assert "51.0%" not in terminal.getvalue()
    bar(0.52, "next step")  # a new message
    bar(0.61, "next step")  # a new cell
    bar(1.0, "next step")  # the end
    clock.now += 0.2
    bar(1.0, "next step")  # the same text is never drawn twice
    out = terminal.getvalue()
    assert [part.split("%")[0][-5:] for part in out.split("\r")[1:]] == [" 50.0", " 52.0", " 61.0", "100.0"]
    bar.clear()
    bar.clear()  # a clear line is not cleared again
    assert terminal.getvalue() == out + CLEAR


def test_a_cleared_line_is_drawn_again_and_a_line_goes_above_the_bar():
    terminal = FakeTerminal()
    bar = ProgressBar(stream=terminal, width=4)
    bar(0.5, "photos")
    bar.line("cardgrader: photo 2 cannot be read")
    bar(0.5, "photos")
    assert terminal.getvalue() == ("\r[##..]  50.0% photos\x1b[K" + CLEAR + "cardgrader: photo 2 cannot be read\n"
                                   "\r[##..]  50.0% photos\x1b[K")


def test_the_training_display_draws_its_batches_with_losses_and_clears_for_each_line():
    terminal = FakeTerminal()
    display = TerminalProgress(terminal)
    display.show({"type": "run_started", "run": "r1", "epochs": 2, "time": 0.0})
    display.show({"type": "batch", "run": "r1", "epoch": 1, "epochs": 2, "batch": 5, "batches": 10,
                  "losses": {"box_loss": 1.5, "cls_loss": 0.25}, "time": 1.0})
    display.show({"type": "epoch", "run": "r1", "epoch": 1, "epochs": 2, "metrics": {}, "train_losses": {},
                  "time": 2.0})
    out = terminal.getvalue()
    assert out.startswith("Run r1: 2 epochs\n\r[")
    assert " 25.0% Epoch 1/2 · batch 5/10 · box 1.500 cls 0.250\x1b[K" + CLEAR + "Epoch 1/2: " in out

    pipe = io.StringIO()
    TerminalProgress(pipe).show({"type": "batch", "run": "r1", "epoch": 1, "epochs": 2, "batch": 5, "batches": 10,
                                 "losses": {}, "time": 1.0})
    assert pipe.getvalue() == ""

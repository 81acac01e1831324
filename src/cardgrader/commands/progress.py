"""The one progress line every command draws on a terminal: `[#####.......]  41.7% message · extra`.

It is drawn only when the stream is a terminal (and the command was not asked for --json); on a pipe or a
file it writes nothing, so redirected output stays clean. Redraws are rate-limited: a new message, a bar
cell filled or the end is drawn at once, anything else (a percent, a loss) at most every `interval`
seconds. `clear()` (also `close()`, and the end of a `with` block) wipes the line; `line(text)` prints a
permanent line above it on any stream.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import Callable, TextIO

CLEAR = "\r\x1b[K"


class ProgressBar:
    """A redrawn progress line; `bar(fraction, message)`, `bar.counts(done, total, stage)`."""

    def __init__(self, enabled: bool = True, stream: TextIO | None = None, *, width: int | None = 24,
                 interval: float = 0.1, clock: Callable[[], float] = time.monotonic):
        self.stream = stream or sys.stderr
        self.live = bool(enabled) and _is_terminal(self.stream)
        self.width = width  # None: fit the terminal, 10 to 30 cells
        self.interval = interval
        self.clock = clock
        self._text = ""  # what the line shows now; "" when it is clear
        self._key: tuple | None = None  # (message, filled cells) of the last draw
        self._time = 0.0

    def draw(self, fraction: float, message: str, extra: str = "") -> None:
        if not self.live:
            return
        fraction = max(0.0, min(1.0, fraction))
        columns = shutil.get_terminal_size((100, 20)).columns
        width = self.width or max(10, min(30, columns - 90))
        filled = int(round(fraction * width))
        text = f"[{'#' * filled}{'.' * (width - filled)}] {fraction * 100:5.1f}% {message}"
        text = (f"{text} · {extra}" if extra else text)[: columns - 1]
        now = self.clock()
        key = (message, filled)
        if text == self._text or (key == self._key and fraction < 1.0 and now - self._time < self.interval):
            return
        self.stream.write(f"\r{text}\x1b[K")
        self.stream.flush()
        self._text, self._key, self._time = text, key, now

    __call__ = draw

    def counts(self, done: int, total: int, stage: str) -> None:
        """The `progress(done, total, message)` of the data jobs."""
        self.draw(done / total if total else 1.0, stage, f"{done}/{total}")

    def line(self, text: str) -> None:
        """A permanent line (on a terminal or not); the bar, if shown, is redrawn by the next update."""
        self.clear()
        self.stream.write(text + "\n")
        self.stream.flush()

    def clear(self) -> None:
        if self._text:
            self.stream.write(CLEAR)
            self.stream.flush()
            self._text, self._key = "", None

    close = clear

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *_exc) -> None:
        self.clear()


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False

"""Progress and cancellation for long dataset jobs, and the pool that runs them in parallel.

A job takes `progress(done, total, message)`, called on the caller's thread when a stage starts, at most
every 50 ms after that, and at the end of each stage; and `cancel`, a `threading.Event`: set it from any
thread and the job raises `Cancelled` at the next chunk of work. The GUI runs the job on a worker thread
and polls a queue that its progress callback fills.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence, TypeVar

from cardgrader.errors import Cancelled

T = TypeVar("T")
R = TypeVar("R")
ProgressFn = Callable[[int, int, str], None]


class Reporter:
    """Calls `progress` no more often than every `interval` seconds, always for the last step."""

    def __init__(self, progress: ProgressFn | None, cancel: threading.Event | None, interval: float = 0.05):
        self.progress = progress
        self.cancel = cancel
        self.interval = interval
        self._last = 0.0
        self._message = ""

    def __call__(self, done: int, total: int, message: str) -> None:
        self.check()
        if self.progress is None:
            return
        now = time.monotonic()
        if done >= total or message != self._message or now - self._last >= self.interval:
            self._last, self._message = now, message
            self.progress(done, total, message)

    def check(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("Stopped at your request; nothing was written.")


def default_workers() -> int:
    """Threads for reading: two where there are more than two CPUs, else one (off the caller's thread).

    Reading a card photo's header and its labels is short I/O between pure-Python parsing, so more
    threads mostly hand the GIL back and forth: on a warm cache, 2 threads took 15 % and 4 threads 40 %
    longer than 1 (5,000 photos, bench/data_check.py's data). The second thread pays off only where
    reads wait on a slow disk or a network share. A process pool was no faster either: sending 5,000
    results back (about 10 MB pickled) and starting the workers cost what the second core saved.
    """
    return 2 if (os.cpu_count() or 1) > 2 else 1


def parallel_map(fn: Callable[[T], R], items: Sequence[T], report: Reporter, message: str,
                 workers: int | None = None) -> list[R]:
    """`[fn(x) for x in items]` on a thread pool, in order, in chunks so progress and cancel stay responsive.

    The caller's thread only collects results and reports; see `default_workers` for how many threads.
    """
    total = len(items)
    report(0, total, message)
    if total == 0:
        return []
    workers = workers or default_workers()
    size = max(8, min(256, total // (workers * 8) or 1))
    chunks = [items[i:i + size] for i in range(0, total, size)]
    out: list[R] = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cardgrader-data") as pool:
        futures = [pool.submit(lambda chunk: [fn(x) for x in chunk], c) for c in chunks]
        try:
            for future in futures:
                out.extend(future.result())
                report(len(out), total, message)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return out

"""Engine events → the Tk main thread. The engine runs on its own asyncio thread; this drains its
subscription queue every 50 ms with after() and hands each event to the panels that listen."""

from __future__ import annotations

import queue
from typing import Callable

DRAIN_MS = 50
MAX_EVENTS_PER_DRAIN = 400


class EngineBridge:
    def __init__(self, root):
        self.root = root
        self._engine = None
        self._queue: queue.Queue | None = None
        self._listeners: list[Callable[[dict], None]] = []
        self._draining = False

    @property
    def engine(self):
        """The engine, created on first use (it stays off the start-up path)."""
        if self._engine is None:
            from cardgrader.training.engine import Engine

            self._engine = Engine(low_priority=True)
            self._queue = self._engine.subscribe()
            if not self._draining:
                self._draining = True
                self.root.after(DRAIN_MS, self._drain)
        return self._engine

    @property
    def active_run(self) -> str | None:
        """The run the engine trains now; None when none does, and before the engine exists (it makes none)."""
        return None if self._engine is None else self._engine.active_run

    @property
    def idle(self) -> bool:
        return self.active_run is None

    def reset(self) -> None:
        """Let the next use make a new engine on the current data folder (call only while idle)."""
        if self._engine is not None:
            engine, self._engine = self._engine, None
            engine.unsubscribe(self._queue)
            engine.shutdown(timeout=5)

    @property
    def store(self):
        return self.engine.store

    def listen(self, callback: Callable[[dict], None]) -> None:
        self._listeners.append(callback)

    def _drain(self) -> None:
        batch = []
        for _ in range(MAX_EVENTS_PER_DRAIN if self._queue is not None else 0):
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        for event in batch:
            for callback in self._listeners:
                callback(event)
        self.root.after(DRAIN_MS, self._drain)

    def shutdown(self, timeout: float = 10.0) -> None:
        if self._engine is not None:
            self._engine.shutdown(timeout=timeout)

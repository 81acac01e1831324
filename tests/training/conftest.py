"""Engine test helpers: an Engine per test and a way to wait for events."""

from __future__ import annotations

import queue
import time

import pytest

from cardgrader.training.config import TrainingConfig


@pytest.fixture
def engine():
    from cardgrader.training.engine import Engine

    eng = Engine()
    yield eng
    eng.shutdown(timeout=15)


def tiny(data, **overrides) -> TrainingConfig:
    """A config that trains for real in seconds on this CPU."""
    values = dict(data=str(data), epochs=2, batch=4, imgsz=64, plots=False, workers=0, augment="light",
                  patience=0, border="dual")
    values.update(overrides)
    return TrainingConfig.from_dict(values)


def wait_for(subscription: queue.Queue, predicate, timeout: float = 120.0, seen: list | None = None) -> dict:
    """The first event matching `predicate` (events before it are appended to `seen`)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            event = subscription.get(timeout=0.5)
        except queue.Empty:
            continue
        if seen is not None:
            seen.append(event)
        if predicate(event):
            return event
    raise AssertionError(f"no matching event within {timeout} s")


def terminal(event: dict) -> bool:
    return event["type"] in ("finished", "failed", "cancelled")

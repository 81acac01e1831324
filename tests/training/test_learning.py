"""Learning quality: a border detector trained from scratch on generated cards really learns."""

from __future__ import annotations

import json

import pytest

from tests.training.conftest import terminal, tiny, wait_for


@pytest.mark.slow
def test_border_detector_from_scratch_reaches_map50_half(engine, card_dataset):
    data = card_dataset("detect", count=80, size=160, seed=7)
    sub = engine.subscribe()
    run_id = engine.start(tiny(data, epochs=40, batch=16, imgsz=160, augment="medium", name="border-learning"))
    history: list[dict] = []
    final = wait_for(sub, terminal, timeout=900, seen=history)
    assert final["type"] == "finished", final
    curve = [e["metrics"]["mAP50"] for e in history if e["type"] == "epoch"]
    assert len(curve) == 40
    assert final["metrics"]["mAP50"] >= 0.5, curve
    assert max(curve[-5:]) > curve[0]  # it improved, it did not start there
    meta = json.loads((engine.store.folder(run_id) / "model" / "metadata.json").read_text())
    assert meta["metrics"]["mAP50"] >= 0.5 and meta["best_epoch"] >= 10

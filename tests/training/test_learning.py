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


@pytest.mark.slow
def test_the_readmes_first_model_learns_on_80_sample_cards_within_10_minutes(engine, tmp_path):
    """README's three commands, through the engine: `data sample OUT --count 80`, `train --preset first-model`."""
    import time

    from cardgrader.data.sample import generate
    from cardgrader.training.presets import load_preset

    generate(tmp_path / "cards", count=80, seed=0)
    config = load_preset("first-model").updated(data=str(tmp_path / "cards"))
    started = time.time()
    run_id = engine.start(config)
    history: list[dict] = []
    final = wait_for(engine.subscribe(), terminal, timeout=600, seen=history)
    seconds = time.time() - started
    assert final["type"] == "finished", final
    meta = json.loads((engine.store.folder(run_id) / "model" / "metadata.json").read_text())
    print(f"first-model: mAP50 {meta['metrics']['mAP50']:.3f} in {seconds:.0f} s")
    assert meta["metrics"]["mAP50"] >= 0.5 and seconds < 600

"""Tiny card models, one per architecture, trained for real by the engine on generated cards, once per session.

They are weak (two epochs on a dozen 96 px cards: confidences below 0.01, nearly the same on every photo,
so tests predict with --conf 0.001) but real: Ultralytics trained them, the engine packaged them, and
everything the tests do with them (predict, export, eval) is what a user's model goes through.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from cardgrader.training.config import TrainingConfig

CLASSES = ("outer_border", "inner_border")
SIZE = 96
_TRAINED: dict[str, "CardModel"] = {}


@dataclass
class CardModel:
    arch: str
    home: Path  # the CARDGRADER_HOME it was trained in
    run_id: str
    package: Path  # runs/<id>/model
    data: Path  # the data.yaml it trained on (train + val splits)


def trained_card_model(tmp_path_factory: pytest.TempPathFactory, arch: str, epochs: int = 2,
                       count: int = 12, size: int = SIZE, **settings) -> CardModel:
    """Train (or reuse) an `arch` model with the classes outer_border, inner_border in its own data dir."""
    key = "-".join([arch, str(epochs), str(count), str(size), *(f"{k}{v}" for k, v in sorted(settings.items()))])
    if key in _TRAINED:
        return _TRAINED[key]
    from cardgrader.data.sample import write_training_set

    root = tmp_path_factory.mktemp(f"card-model-{key}")
    data = write_training_set(root / "dataset", arch, count, seed=0, size=(size, size), classes=CLASSES)
    with pytest.MonkeyPatch.context() as mp:
        # Session fixtures run before the per-test `home` fixture, so they choose their own data dir.
        mp.setenv("CARDGRADER_HOME", str(root / "home"))
        from cardgrader.training.engine import Engine

        engine = Engine()
        try:
            config = TrainingConfig(**{"task": "border", "arch": arch, "classes": list(CLASSES), "data": str(data),
                                       "epochs": epochs, "imgsz": size, "batch": 4, "plots": False, "workers": 0,
                                       "augment": "light", "patience": 0, "name": f"tiny {arch}", **settings})
            run_id = engine.start(config)
            status = engine.wait(run_id, timeout=900)
        finally:
            engine.shutdown()
    assert status == "finished", f"training the {arch} model ended {status}"
    model = CardModel(arch, root / "home", run_id, root / "home" / "runs" / run_id / "model", data)
    _TRAINED[key] = model
    return model


@pytest.fixture(scope="session")
def card_models(tmp_path_factory):
    """`card_models(arch)` → the session's tiny CardModel for detect, segment or obb (trained on first use)."""
    return lambda arch: trained_card_model(tmp_path_factory, arch)

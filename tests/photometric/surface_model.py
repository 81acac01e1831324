"""A small surface model trained for real by the engine on generated data, once per test session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from cardgrader.photometric.samples import write_surface_training_set
from cardgrader.training.config import TrainingConfig

_TRAINED: dict[str, "TrainedModel"] = {}


@dataclass
class TrainedModel:
    home: Path  # the CARDGRADER_HOME it was trained in
    run_id: str
    package: Path  # runs/<id>/model


def trained_surface_model(tmp_path_factory: pytest.TempPathFactory, epochs: int = 1, count: int = 12,
                          size: int = 96, batch: int = 4) -> TrainedModel:
    """Train (or reuse) a detect model with the classes scratch, dent, crease in its own data dir."""
    key = f"{epochs}-{count}-{size}-{batch}"
    if key in _TRAINED:
        return _TRAINED[key]
    root = tmp_path_factory.mktemp(f"surface-model-{key}")
    data = write_surface_training_set(root / "dataset", count=count, size=size, seed=0)
    with pytest.MonkeyPatch.context() as mp:
        # Session fixtures run before the per-test `home` fixture, so they choose their own data dir.
        mp.setenv("CARDGRADER_HOME", str(root / "home"))
        from cardgrader.training.engine import Engine

        engine = Engine()
        try:
            config = TrainingConfig(task="surface", arch="detect", data=str(data), epochs=epochs, imgsz=size,
                                    batch=batch, plots=False, workers=0, augment="light", patience=0)
            run_id = engine.start(config)
            status = engine.wait(run_id, timeout=600)
        finally:
            engine.shutdown()
    assert status == "finished", f"training the surface model ended {status}"
    model = TrainedModel(root / "home", run_id, root / "home" / "runs" / run_id / "model")
    _TRAINED[key] = model
    return model

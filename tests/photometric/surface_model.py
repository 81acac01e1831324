"""Models trained for real by the engine, each in its own data dir; here the small surface model, trained
on generated data once per test session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from cardgrader.photometric.samples import write_surface_training_set
from cardgrader.training.config import TrainingConfig

_TRAINED: dict[str, TrainedModel] = {}


@dataclass
class TrainedModel:
    home: Path  # the CARDGRADER_HOME it was trained in
    run_id: str
    package: Path  # runs/<id>/model


def train_in_own_home(home: Path, config: TrainingConfig, timeout: float = 900) -> TrainedModel:
    """Run `config` through the engine with `home` as the data dir; the run must finish."""
    with pytest.MonkeyPatch.context() as mp:
        # Session fixtures run before the per-test `home` fixture, so they choose their own data dir.
        mp.setenv("CARDGRADER_HOME", str(home))
        from cardgrader.training.engine import Engine

        engine = Engine()
        try:
            run_id = engine.start(config)
            status = engine.wait(run_id, timeout=timeout)
        finally:
            engine.shutdown()
    assert status == "finished", f"training the {config.task} model ended {status}"
    return TrainedModel(home, run_id, home / "runs" / run_id / "model")


def trained_surface_model(tmp_path_factory: pytest.TempPathFactory, epochs: int = 1, count: int = 12,
                          size: int = 96, batch: int = 4) -> TrainedModel:
    """Train (or reuse) a detect model with the classes scratch, dent, crease in its own data dir."""
    key = f"{epochs}-{count}-{size}-{batch}"
    if key not in _TRAINED:
        root = tmp_path_factory.mktemp(f"surface-model-{key}")
        data = write_surface_training_set(root / "dataset", count=count, size=size, seed=0)
        config = TrainingConfig(task="surface", arch="detect", data=str(data), epochs=epochs, imgsz=size,
                                batch=batch, plots=False, workers=0, augment="light", patience=0)
        _TRAINED[key] = train_in_own_home(root / "home", config, timeout=600)
    return _TRAINED[key]

"""Shared fixtures: every test gets its own CARDGRADER_HOME; sample datasets are generated once per session."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    """A fresh data dir per test, so no test sees another's runs or the user's real data."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("CARDGRADER_HOME", str(path))
    return path


@pytest.fixture(scope="session")
def card_dataset(tmp_path_factory):
    """`card_dataset(arch, count=12, size=160, seed=0)` → path of a generated Ultralytics data.yaml (cached)."""
    from cardgrader.data.sample import write_training_set

    cache: dict[tuple, Path] = {}
    root = tmp_path_factory.mktemp("card-datasets")

    def make(arch: str = "detect", count: int = 12, size: int = 160, seed: int = 0,
             classes: tuple[str, ...] = ("outer_border", "inner_border")) -> Path:
        key = (arch, count, size, seed, classes)
        if key not in cache:
            cache[key] = write_training_set(root / f"{arch}-{count}-{size}-{seed}-{len(classes)}", arch, count, seed,
                                            (size, size), classes=classes)
        return cache[key]

    return make


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under a folder, by relative path: compare before/after to prove nothing changed."""
    out = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(autouse=True)
def _pil_stays_pillow():
    """A test that imports Ultralytics in this process must not change PIL for the tests after it
    (Ultralytics replaces PIL.Image.open process-wide; the app undoes that wherever it imports it)."""
    yield
    import sys

    if "ultralytics.utils.patches" in sys.modules:
        from cardgrader.yolo_runtime import restore_pil_open

        restore_pil_open()

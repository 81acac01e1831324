"""Presets: the shipped ones load; a grader saves, imports and exports their own."""

from __future__ import annotations

import pytest
import yaml

from cardgrader.errors import ConfigError
from cardgrader.training import presets
from cardgrader.training.config import TrainingConfig

SHIPPED = ["first-model", "quick-test", "standard", "deep", "border-front-dual", "border-back-outer", "corners", "surface"]


def test_shipped_presets_all_load_and_validate():
    listed = {p.name: p for p in presets.list_presets()}
    for name in SHIPPED:
        assert listed[name].builtin and listed[name].description
        config = presets.load_preset(name)
        assert config.problems() == []
    assert presets.load_preset("border-front-dual").class_names == ["outer_border", "inner_border"]
    assert presets.load_preset("border-back-outer").class_names == ["outer_border"]
    assert presets.load_preset("border-back-outer").side == "back"


def test_save_import_export_round_trip(tmp_path):
    config = TrainingConfig(task="corners", arch="obb", epochs=7, augment="heavy", data="/somewhere")
    path = presets.save_preset("my-corners", config, "my own")
    assert path.parent == presets.paths.user_presets_dir()
    loaded = presets.load_preset("my-corners")
    assert (loaded.task, loaded.arch, loaded.epochs, loaded.augment) == ("corners", "obb", 7, "heavy")
    assert loaded.data == ""  # a preset describes how to train, not on what

    exported = presets.export_preset("my-corners", tmp_path / "shared.yaml")
    assert yaml.safe_load(exported.read_text())["description"] == "my own"
    imported = presets.import_preset(exported, name="from-a-colleague")
    assert not imported.builtin and presets.load_preset("from-a-colleague").epochs == 7


def test_builtin_names_and_bad_names_are_refused():
    with pytest.raises(ConfigError, match="built-in"):
        presets.save_preset("standard", TrainingConfig())
    with pytest.raises(ConfigError, match="Preset name"):
        presets.save_preset("bad name/..", TrainingConfig())


def test_importing_a_bad_preset_names_the_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("arch: pose\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'arch' must be one of detect, segment, obb"):
        presets.import_preset(bad)
    assert "bad" not in {p.name for p in presets.list_presets()}

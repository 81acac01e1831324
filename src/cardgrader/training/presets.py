"""Presets: YAML files of TrainingConfig fields. Built-in ones ship in `configs/`; a grader's own
are saved in the data dir. A preset may set any subset of fields plus a `description`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cardgrader import paths
from cardgrader.errors import ConfigError
from cardgrader.training.config import TrainingConfig

PRESET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,59}$")


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    builtin: bool
    path: Path


def _read_yaml(path: Path, what: str) -> dict[str, Any]:
    try:
        values = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"The {what} file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"The {what} file {path} cannot be read: {exc}.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"The {what} file {path} is not valid YAML{where}.") from None
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ConfigError(f"The {what} file {path} must hold a mapping of field: value.")
    return values


def config_from_file(path: str | Path, what: str = "config") -> TrainingConfig:
    """Defaults overlaid with the fields in a YAML file (a --config file or a preset)."""
    values = _read_yaml(Path(path), what)
    values.pop("description", None)
    return TrainingConfig.from_dict(values, source=f"{what} file {path}")


def _preset_files() -> dict[str, Preset]:
    found: dict[str, Preset] = {}
    for builtin, folder in ((True, paths.configs_dir()), (False, paths.user_presets_dir())):
        if not folder.is_dir():
            continue
        for file in sorted(folder.glob("*.yaml")):
            if file.stem in found:  # a user file never shadows a built-in preset
                continue
            try:
                description = str(_read_yaml(file, "preset").get("description", ""))
            except ConfigError:
                description = "(unreadable)"
            found[file.stem] = Preset(file.stem, description, builtin, file)
    return found


def list_presets() -> list[Preset]:
    return sorted(_preset_files().values(), key=lambda p: (not p.builtin, p.name))


def get_preset(name: str) -> Preset:
    presets = _preset_files()
    if name not in presets:
        raise ConfigError(f"There is no preset named {name!r}; available presets: {', '.join(sorted(presets))}.", field="preset")
    return presets[name]


def load_preset(name: str) -> TrainingConfig:
    return config_from_file(get_preset(name).path, "preset")


def preset_values(name: str) -> dict[str, Any]:
    """Only the fields a preset sets (applied on top of the current choices, not the defaults)."""
    values = _read_yaml(get_preset(name).path, "preset")
    values.pop("description", None)
    TrainingConfig.from_dict(values, source=f"preset {name}")
    return values


def _check_name(name: str) -> None:
    if not PRESET_NAME.match(name or ""):
        raise ConfigError(
            f"Preset name {name!r} must start with a letter or digit and use only letters, digits, '_' and '-' (at most 60).",
            field="preset",
        )
    existing = _preset_files().get(name)
    if existing and existing.builtin:
        raise ConfigError(f"{name!r} is a built-in preset; save yours under another name.", field="preset")


def save_preset(name: str, config: TrainingConfig, description: str = "") -> Path:
    """Save a config as the user's preset `name` (overwrites an earlier user preset of that name)."""
    _check_name(name)
    values = config.to_dict()
    values.pop("data", None)  # a preset describes how to train, not on what
    values.pop("name", None)
    path = paths.user_presets_dir() / f"{name}.yaml"
    body = {"description": description, **values} if description else values
    path.write_text(yaml.safe_dump(body, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def delete_preset(name: str) -> None:
    """Delete the user's preset `name` (a built-in one cannot be deleted)."""
    preset = get_preset(name)
    if preset.builtin:
        raise ConfigError(f"{name!r} is a built-in preset; only your own presets can be deleted.", field="preset")
    preset.path.unlink(missing_ok=True)


def import_preset(source: str | Path, name: str | None = None) -> Preset:
    """Validate a preset file from elsewhere and copy it into the user's presets."""
    source = Path(source)
    values = _read_yaml(source, "preset")
    description = str(values.pop("description", "") or "")
    config = TrainingConfig.from_dict(values, source=f"preset file {source}")
    name = name or source.stem
    save_preset(name, config, description)
    return get_preset(name)


def export_preset(name: str, target: str | Path) -> Path:
    target = Path(target)
    target.write_text(get_preset(name).path.read_text(encoding="utf-8"), encoding="utf-8")
    return target


# The card profile whose hyper-parameters suit each task best (the GUI applies them when the task changes).
TASK_PROFILES = {"border": "border-front-dual", "centering": "centering", "corners": "corners", "edges": "edges",
                 "surface": "surface"}
HYPER_PARAMETERS = ("epochs", "batch", "imgsz", "lr0", "optimizer", "patience", "augment")


def task_defaults(task: str) -> dict[str, Any]:
    """Hyper-parameters of the task's card profile (only those it sets)."""
    name = TASK_PROFILES.get(task)
    if not name:
        return {}
    return {k: v for k, v in preset_values(name).items() if k in HYPER_PARAMETERS}

"""Where cardgrader keeps its files.

`CARDGRADER_HOME` overrides the per-user data dir; tests and benchmarks set it. Shipped presets and
assets are found next to the source tree (editable install), inside a PyInstaller bundle, or in the
installed `share/cardgrader` data files.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

APP_NAME = "cardgrader"


def _location_file() -> Path:
    """Where the app remembers a data dir the user chose in Settings (outside the data dir itself)."""
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "location.json"


def default_home() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def home_from_environment() -> str | None:
    """CARDGRADER_HOME when it is set: then it decides the data folder, whatever Settings chose."""
    return os.environ.get("CARDGRADER_HOME") or None


def home() -> Path:
    """The per-user data dir (created on first use): CARDGRADER_HOME, else the one chosen in Settings."""
    env = os.environ.get("CARDGRADER_HOME")
    if env:
        path = Path(env).expanduser()
    else:
        path = default_home()
        try:
            chosen = json.loads(_location_file().read_text(encoding="utf-8")).get("home")
            if chosen:
                path = Path(chosen)
        except (OSError, ValueError, AttributeError):
            pass
    path.mkdir(parents=True, exist_ok=True)
    return path


def choose_home(path: Path | None) -> None:
    """Remember a data dir for the next launch (None: back to the default)."""
    location = _location_file()
    location.parent.mkdir(parents=True, exist_ok=True)
    location.write_text(json.dumps({"home": str(path) if path else None}), encoding="utf-8")


def _sub(name: str) -> Path:
    path = home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def runs_dir() -> Path:
    return _sub("runs")


def models_dir() -> Path:
    """The model library's index and the packages of imported models."""
    return _sub("models")


def user_presets_dir() -> Path:
    return _sub("presets")


def weights_dir() -> Path:
    """Pretrained weights the user placed here (or that were downloaded when allowed)."""
    return _sub("weights")


def ultralytics_config_dir() -> Path:
    """Ultralytics' settings and fonts live inside our data dir, never in the user's ~/.config."""
    return _sub("ultralytics")


def datasets_dir() -> Path:
    return _sub("datasets")


def logs_dir() -> Path:
    return _sub("logs")


def settings_file() -> Path:
    return home() / "settings.json"


def _bundled(name: str) -> Path:
    frozen_root = getattr(sys, "_MEIPASS", None)
    candidates = []
    if frozen_root:
        candidates.append(Path(frozen_root) / name)
    candidates.append(Path(__file__).resolve().parents[2] / name)  # source tree / editable install
    candidates.append(Path(sys.prefix) / "share" / APP_NAME / name)  # wheel data-files
    for path in candidates:
        if path.is_dir():
            return path
    return candidates[0]


def configs_dir() -> Path:
    """Presets shipped with the app."""
    return _bundled("configs")


def assets_dir() -> Path:
    return _bundled("assets")

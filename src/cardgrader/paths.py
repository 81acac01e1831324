"""Where cardgrader keeps its files.

`CARDGRADER_HOME` overrides the per-user data dir; tests and benchmarks set it. Shipped presets and
assets are found next to the source tree (editable install), inside a PyInstaller bundle, or in the
installed `share/cardgrader` data files.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "cardgrader"


def home() -> Path:
    """The per-user data dir (created on first use)."""
    env = os.environ.get("CARDGRADER_HOME")
    if env:
        path = Path(env).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sub(name: str) -> Path:
    path = home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def runs_dir() -> Path:
    return _sub("runs")


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

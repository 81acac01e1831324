"""What the app remembers between launches: theme, default device, window size, last choices."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cardgrader import paths

DEFAULTS: dict[str, Any] = {
    "theme": "dark",
    "default_device": "auto",
    "geometry": "1320x860",
    "last_config": {},
    "last_panel": "data",
    "last_sources": [],  # the folders and files on the Data panel, restored at the next start
}


class Settings:
    def __init__(self, path: Path | None = None):
        self.path = path or paths.settings_file()
        self.values = dict(DEFAULTS)
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(stored, dict):
                self.values.update({k: v for k, v in stored.items() if k in DEFAULTS})
        except (OSError, ValueError):
            pass

    def get(self, key: str) -> Any:
        return self.values.get(key, DEFAULTS.get(key))

    def set(self, key: str, value: Any) -> None:
        if self.values.get(key) == value:
            return
        self.values[key] = value
        self.save()

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(self.values, indent=1), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # settings are a convenience; never fail the app over them

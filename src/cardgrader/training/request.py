"""A run request: everything the engine is given to train one model.

The training settings (`TrainingConfig`) plus what the dataset is built from: the raw sources as the
grader gave them (folders or files of any format `data import` reads, or a dataset it built), the
train/val/test split, the split seed and the grader's own label → class mappings. The GUI (sources
dropped on the Data panel), `cardgrader train --data A --data B --split … --seed …` and the queue all
hand the engine one of these; the engine builds (or reuses, by fingerprint) the dataset itself, so the
same inputs give the same dataset whichever way the run was started.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from cardgrader.errors import ConfigError, DataError
from cardgrader.training.config import TrainingConfig

DEFAULT_SPLIT = "0.8,0.2,0"
REQUEST_FILE = "request.json"  # beside a run's config.yaml: what a resume rebuilds from if the dataset is gone


@dataclass
class RunRequest:
    config: TrainingConfig
    sources: list[str] = field(default_factory=list)  # empty: `config.data` is the one source
    split: str = DEFAULT_SPLIT
    seed: int = 0
    class_map: dict[str, str | None] = field(default_factory=dict)  # on top of the saved class map

    def __post_init__(self) -> None:
        self.sources = [absolute(s) for s in (self.sources or ([self.config.data] if self.config.data else []))]
        self.split = ",".join(str(x) for x in self.split) if isinstance(self.split, (list, tuple)) else str(self.split)
        try:
            self.seed = int(self.seed)
        except (TypeError, ValueError):
            raise ConfigError(f"--seed must be a whole number; got {self.seed!r}.", field="seed") from None
        if self.sources and self.config.data != self.sources[0]:
            self.config = self.config.updated(data=self.sources[0])  # what the run record shows as its data

    def check(self) -> None:
        """Fast checks of the inputs (no image is read): a bad source or split never becomes a run."""
        from cardgrader.data.split import parse_ratios

        parse_ratios(self.split)
        if not self.sources:
            raise DataError("No training data chosen: give --data a folder of labelled card photos or a dataset YAML.")
        for source in self.sources:
            if not Path(source).exists():
                raise DataError(f"The data path {source} does not exist.")

    def to_dict(self) -> dict:
        return {"config": self.config.to_dict(), "sources": list(self.sources), "split": self.split,
                "seed": self.seed, "class_map": dict(self.class_map)}

    @classmethod
    def from_dict(cls, data: dict) -> RunRequest:
        return cls(TrainingConfig.from_dict(data["config"]), list(data.get("sources") or []),
                   data.get("split") or DEFAULT_SPLIT, data.get("seed") or 0, dict(data.get("class_map") or {}))

    def save(self, folder: Path) -> None:
        (folder / REQUEST_FILE).write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def of_run(cls, folder: Path, config: TrainingConfig) -> RunRequest:
        """The request a run was started from (runs from before requests existed: their config's data)."""
        try:
            data = json.loads((folder / REQUEST_FILE).read_text(encoding="utf-8"))
            return cls(config, list(data.get("sources") or []), data.get("split") or DEFAULT_SPLIT,
                       data.get("seed") or 0, dict(data.get("class_map") or {}))
        except (OSError, ValueError, TypeError, AttributeError):
            return cls(config)

    def class_mapping(self):
        from cardgrader.data.classmap import ClassMap

        base = ClassMap.load()
        return ClassMap(user={**base.user, **self.class_map}) if self.class_map else base


def absolute(source: str | Path) -> str:
    """A source as an absolute path (a queued job may run from another working directory)."""
    return str(Path(str(source)).expanduser().absolute())

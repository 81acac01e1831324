"""TrainingConfig: every choice a grader makes before a run, validated in one place.

Each bad value raises `ConfigError` naming the field and the allowed values; `problems()` lists all of
them at once so the GUI can mark every field inline. `ultralytics_args()` turns a config into the
keyword arguments of `YOLO.train`, which the benchmark also uses to build the equivalent `yolo train`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from cardgrader.errors import ConfigError
from cardgrader.vocabulary import ARCHS, BORDERS, SIDES, TASKS, default_classes

FAMILIES = ("yolo11", "yolov8", "yolo26")
SIZES = ("n", "s", "m", "l", "x")
AUGMENTS = ("light", "medium", "heavy")
OPTIMIZERS = ("auto", "SGD", "MuSGD", "Adam", "Adamax", "AdamW", "NAdam", "RAdam", "RMSprop")
ARCH_SUFFIX = {"detect": "", "segment": "-seg", "obb": "-obb"}

# Real Ultralytics augmentation arguments behind each strength. Cards are rigid and photographed
# nearly square-on, so rotation and shear stay small even at "heavy".
AUGMENT_ARGS: dict[str, dict[str, float]] = {
    "light": {
        "hsv_h": 0.005, "hsv_s": 0.3, "hsv_v": 0.2, "degrees": 0.0, "translate": 0.05, "scale": 0.2,
        "shear": 0.0, "perspective": 0.0, "flipud": 0.0, "fliplr": 0.5, "mosaic": 0.5, "mixup": 0.0,
    },
    "medium": {
        "hsv_h": 0.015, "hsv_s": 0.7, "hsv_v": 0.4, "degrees": 3.0, "translate": 0.1, "scale": 0.5,
        "shear": 0.0, "perspective": 0.0, "flipud": 0.0, "fliplr": 0.5, "mosaic": 1.0, "mixup": 0.0,
    },
    "heavy": {
        "hsv_h": 0.02, "hsv_s": 0.8, "hsv_v": 0.5, "degrees": 8.0, "translate": 0.2, "scale": 0.7,
        "shear": 2.0, "perspective": 0.0005, "flipud": 0.0, "fliplr": 0.5, "mosaic": 1.0, "mixup": 0.1,
    },
}

OFFICIAL_WEIGHTS = re.compile(r"^(yolo11|yolov8|yolo26)([nsmlx])(-seg|-obb)?\.pt$")
DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda|cuda:\d+|\d+(,\d+)*)$")
CLASS_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")


@dataclass
class TrainingConfig:
    """One training run's settings. `classes` empty means "derived from task and border type"."""

    name: str = ""
    arch: str = "detect"
    family: str = "yolo11"
    size: str = "n"
    task: str = "border"
    side: str = "front"
    border: str = "dual"
    classes: list[str] = field(default_factory=list)
    data: str = ""
    weights: str = "scratch"
    download_weights: bool = False
    epochs: int = 50
    batch: int = 16
    imgsz: int = 640
    lr0: float = 0.01
    optimizer: str = "auto"
    patience: int = 50
    freeze_backbone: bool = False
    augment: str = "medium"
    device: str = "auto"
    workers: int = 2
    seed: int = 0
    plots: bool = True

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, values: dict[str, Any], *, source: str = "config") -> TrainingConfig:
        """Build and validate; unknown keys and bad values raise ConfigError naming the field."""
        if not isinstance(values, dict):
            raise ConfigError(f"The {source} must be a mapping of field: value; got {type(values).__name__}.")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"Unknown field '{unknown[0]}' in the {source}; allowed fields are: {', '.join(sorted(known))}.",
                field=unknown[0],
            )
        config = cls(**{k: v for k, v in values.items() if k in known})
        problems = config.problems()
        if problems:
            name, message = problems[0]
            raise ConfigError(message, field=name)
        return config.normalised()

    def updated(self, **changes: Any) -> TrainingConfig:
        """A validated copy with some fields changed (None values are ignored)."""
        return TrainingConfig.from_dict({**self.to_dict(), **{k: v for k, v in changes.items() if v is not None}})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def normalised(self) -> TrainingConfig:
        """Coerce numeric strings from YAML or the command line into their types."""
        return replace(
            self,
            epochs=int(self.epochs), batch=int(self.batch), imgsz=int(self.imgsz), lr0=float(self.lr0),
            patience=int(self.patience), workers=int(self.workers), seed=int(self.seed),
            classes=[str(c) for c in self.classes] if self.classes else [],
            name=str(self.name or ""), data=str(self.data or ""), weights=str(self.weights or "scratch"),
        )

    # ---- derived facts ------------------------------------------------------------------------
    @property
    def class_names(self) -> list[str]:
        return list(self.classes) if self.classes else default_classes(self.task, self.border)

    @property
    def model_yaml(self) -> str:
        """The Ultralytics model definition trained from scratch, e.g. `yolo11n-seg.yaml`."""
        return f"{self.family}{self.size}{ARCH_SUFFIX[self.arch]}.yaml"

    @property
    def official_weights_name(self) -> str:
        return f"{self.family}{self.size}{ARCH_SUFFIX[self.arch]}.pt"

    @property
    def weights_kind(self) -> str:
        """`scratch`, `file` (a local .pt path) or `official` (a published name like yolo11n.pt)."""
        if self.weights == "scratch":
            return "scratch"
        if OFFICIAL_WEIGHTS.match(self.weights) and not Path(self.weights).exists():
            return "official"
        return "file"

    def default_name(self) -> str:
        return f"{self.task}-{self.side}-{self.arch}-{self.family}{self.size}"

    # ---- validation ---------------------------------------------------------------------------
    def problems(self) -> list[tuple[str, str]]:
        """Every invalid field with its sentence, in field order."""
        out: list[tuple[str, str]] = []

        def choice(name: str, allowed: tuple[str, ...]) -> None:
            value = getattr(self, name)
            if value not in allowed:
                out.append((name, f"Config field '{name}' must be one of {', '.join(allowed)}; got {value!r}."))

        def integer(name: str, low: int, high: int, extra: str = "") -> int | None:
            value = getattr(self, name)
            try:
                number = int(value)
                if isinstance(value, bool) or float(value) != number:
                    raise ValueError
            except (TypeError, ValueError):
                out.append((name, f"Config field '{name}' must be a whole number from {low} to {high}{extra}; got {value!r}."))
                return None
            if not low <= number <= high:
                out.append((name, f"Config field '{name}' must be from {low} to {high}{extra}; got {number}."))
                return None
            return number

        def boolean(name: str) -> None:
            if not isinstance(getattr(self, name), bool):
                out.append((name, f"Config field '{name}' must be true or false; got {getattr(self, name)!r}."))

        if not isinstance(self.name, str) or len(self.name) > 80:
            out.append(("name", f"Config field 'name' must be text of at most 80 characters; got {self.name!r}."))
        choice("arch", ARCHS)
        choice("family", FAMILIES)
        choice("size", SIZES)
        choice("task", TASKS)
        choice("side", SIDES)
        choice("border", BORDERS)
        if self.task == "centering" and self.border != "dual" and not self.classes:
            out.append(("border", "Config field 'border' must be dual for centering, which measures the gap between the outer and inner border."))
        out.extend(self._class_problems())
        if not isinstance(self.data, str):
            out.append(("data", f"Config field 'data' must be a path to a dataset folder or YAML file; got {self.data!r}."))
        out.extend(self._weights_problems())
        boolean("download_weights")
        integer("epochs", 1, 10000)
        batch = self.batch
        if not (isinstance(batch, int) and not isinstance(batch, bool) and batch == -1):
            integer("batch", 1, 4096, " (or -1 for automatic on a GPU)")
        imgsz = integer("imgsz", 32, 4096, ", a multiple of 32")
        if imgsz is not None and imgsz % 32:
            out.append(("imgsz", f"Config field 'imgsz' must be a multiple of 32 (the model's stride); got {imgsz}."))
        try:
            lr0 = float(self.lr0)
            if isinstance(self.lr0, bool) or not 0 < lr0 <= 1:
                raise ValueError
        except (TypeError, ValueError):
            out.append(("lr0", f"Config field 'lr0' must be a number greater than 0 and at most 1; got {self.lr0!r}."))
        choice("optimizer", OPTIMIZERS)
        integer("patience", 0, 10000)
        boolean("freeze_backbone")
        choice("augment", AUGMENTS)
        if not isinstance(self.device, str) or not DEVICE_PATTERN.match(self.device):
            out.append((
                "device",
                f"Config field 'device' must be auto, cpu, mps, cuda, cuda:N or a GPU list like 0,1; got {self.device!r}.",
            ))
        integer("workers", 0, 64)
        integer("seed", 0, 2**31 - 1)
        boolean("plots")
        return out

    def _class_problems(self) -> list[tuple[str, str]]:
        if not self.classes:
            return []
        if not isinstance(self.classes, (list, tuple)) or not all(isinstance(c, str) for c in self.classes):
            return [("classes", f"Config field 'classes' must be a list of class names; got {self.classes!r}.")]
        bad = [c for c in self.classes if not CLASS_NAME_PATTERN.match(c)]
        if bad:
            return [("classes", f"Config field 'classes': class name {bad[0]!r} must be 1-40 letters, digits, '_' or '-'.")]
        if len(set(self.classes)) != len(self.classes):
            return [("classes", "Config field 'classes' lists the same class twice; each class name must be unique.")]
        return []

    def _weights_problems(self) -> list[tuple[str, str]]:
        weights = self.weights
        if not isinstance(weights, str) or not weights:
            return [("weights", f"Config field 'weights' must be scratch, a .pt file or an official name like yolo11n.pt; got {weights!r}.")]
        if weights == "scratch":
            return []
        official = OFFICIAL_WEIGHTS.match(weights)
        if official and not Path(weights).exists():
            suffix = official.group(3) or ""
            if suffix != ARCH_SUFFIX.get(self.arch, suffix):
                return [("weights", f"Config field 'weights': {weights} is for a different architecture than '{self.arch}'; use {self.official_weights_name}.")]
            return []
        if not weights.endswith(".pt"):
            return [("weights", f"Config field 'weights' must be scratch, a .pt file or an official name like yolo11n.pt; got {weights!r}.")]
        if not Path(weights).expanduser().is_file():
            return [("weights", f"Config field 'weights': the file {weights} does not exist; choose an existing .pt file or 'scratch'.")]
        return []

    # ---- Ultralytics ----------------------------------------------------------------------------
    def ultralytics_device(self) -> str | None:
        if self.device == "auto":
            return None
        if self.device.startswith("cuda:"):
            return self.device.split(":", 1)[1]
        if self.device == "cuda":
            return "0"
        return self.device

    def ultralytics_args(self, data_yaml: str | Path, save_dir: str | Path) -> dict[str, Any]:
        """Keyword arguments for `YOLO(model).train(**args)` (model and freeze are set by the trainer)."""
        args: dict[str, Any] = {
            "data": str(data_yaml),
            "epochs": self.epochs,
            "batch": self.batch,
            "imgsz": self.imgsz,
            "lr0": float(self.lr0),
            "optimizer": self.optimizer,
            "patience": self.patience,
            "workers": self.workers,
            "seed": self.seed,
            "deterministic": True,
            "plots": self.plots,
            "project": str(Path(save_dir).parent),
            "name": Path(save_dir).name,
            "exist_ok": True,
            "pretrained": self.weights != "scratch",
            "verbose": True,
            **AUGMENT_ARGS[self.augment],
        }
        device = self.ultralytics_device()
        if device is not None:
            args["device"] = device
        if self.arch == "segment" and self.augment == "heavy":
            args["copy_paste"] = 0.1
        return args

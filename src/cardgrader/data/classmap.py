"""Which source class names mean which of the task's classes (`card`, `outer` → `outer_border`).

The built-in aliases below are overlaid with the grader's own map, a flat JSON object of
`"source name": "class"` in `class_map.json` in the data dir (the GUI edits it with `save_user_map`).
Mapping a name to "" or null drops it on purpose. Names are compared case-insensitively, with spaces
and dashes read as underscores.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from cardgrader import paths
from cardgrader.errors import ConfigError
from cardgrader.vocabulary import BORDER_CLASSES, TASK_CLASSES, default_classes

ALL_CLASSES = tuple(BORDER_CLASSES["dual"]) + tuple(c for names in TASK_CLASSES.values() for c in names)

BUILTIN_ALIASES: dict[str, tuple[str, ...]] = {
    "outer_border": ("card", "outer", "border_outer", "outer_edge", "card_edge", "physical_border", "physical_edge"),
    "inner_border": ("inner", "border_inner", "print", "printed_border", "print_border", "inner_frame", "frame",
                     "print_frame"),
    "corner_sharp": ("corner", "sharp_corner", "corner_good", "corner_ok", "good_corner"),
    "corner_worn": ("worn_corner", "corner_wear", "corner_damage", "damaged_corner", "corner_bad", "soft_corner",
                    "corner_soft", "bad_corner"),
    "edge_wear": ("edge", "edgewear", "edge_whitening", "whitening", "chipping", "edge_chip", "edge_damage"),
    "scratch": ("scratches", "scuff", "scuffs"),
    "dent": ("dents", "dimple", "indent", "ding"),
    "crease": ("creases", "fold", "bend", "wrinkle"),
}
_SEPARATORS = re.compile(r"[^0-9a-z]+")


def normalise(name: str) -> str:
    """`Outer Border` and `outer-border` both read as `outer_border`."""
    return _SEPARATORS.sub("_", str(name).strip().lower()).strip("_")


def user_map_file() -> Path:
    return paths.home() / "class_map.json"


@dataclass
class ClassMap:
    """Source name → class (or None to drop it). Build with `load()`; `user` holds only the grader's entries."""

    user: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lookup: dict[str, str | None] = {}
        for target, aliases in BUILTIN_ALIASES.items():
            for alias in (target, *aliases):
                self._lookup[normalise(alias)] = target
        for name, target in self.user.items():
            self._lookup[normalise(name)] = target.strip() if target else None

    def target(self, name: str, classes: list[str] | None = None) -> str | None:
        """The class a source name means; with `classes`, a name spelled like one of them maps to it too."""
        key = normalise(name)
        if classes:
            for cls in classes:
                if normalise(cls) == key:
                    return cls
        mapped = self._lookup.get(key)
        if mapped and classes:
            return next((cls for cls in classes if normalise(cls) == normalise(mapped)), mapped)
        return mapped

    def resolve(self, label: str, classes: list[str], numbered: bool = False) -> str | None:
        """The class of `classes` a source label becomes, or None when it is left out. `numbered`: the source
        has no class names, so label "2" is taken as the third class unless the map says otherwise."""
        target = self.target(label, classes)
        if target is None and numbered and label.isdigit() and int(label) < len(classes):
            return classes[int(label)]
        return target if target in classes else None

    def why_left_out(self, label: str, task_classes: list[str], border: str) -> str:
        """`border` (left out by the border type), `other_task`, `dropped` (the map says so) or `unknown`."""
        target = self.target(label, task_classes)
        if self.explicitly_dropped(label):
            return "dropped"
        if target is not None and border_dropped(target, border):
            return "border"
        if target in ALL_CLASSES:
            return "other_task"
        return "unknown"

    def explicitly_dropped(self, name: str) -> bool:
        key = normalise(name)
        return key in self._lookup and self._lookup[key] is None

    def as_dict(self) -> dict[str, str | None]:
        """Every alias the map knows (built-in and the grader's), for showing in the GUI."""
        return dict(sorted(self._lookup.items()))

    @classmethod
    def load(cls, path: str | Path | None = None) -> ClassMap:
        """The built-in aliases plus the grader's map (`class_map.json` in the data dir, or `path`)."""
        file = Path(path) if path else user_map_file()
        if not file.exists():
            if path:
                raise ConfigError(f"The class map {file} does not exist.", field="class_map")
            return cls()
        try:
            values = json.loads(file.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"The class map {file} is not a JSON object of \"name\": \"class\" "
                              f"({type(exc).__name__}).", field="class_map") from None
        return cls(user=_validated(values, file))


def _validated(values: object, file: Path | str) -> dict[str, str | None]:
    if not isinstance(values, dict):
        raise ConfigError(f"The class map {file} must be a JSON object of \"name\": \"class\".", field="class_map")
    out: dict[str, str | None] = {}
    for name, target in values.items():
        if target is not None and not isinstance(target, str):
            raise ConfigError(f"In the class map {file}, '{name}' must map to a class name or null; got {target!r}.",
                              field="class_map")
        if not normalise(name):
            raise ConfigError(f"The class map {file} has an empty source name.", field="class_map")
        out[str(name)] = target or None
    return out


def save_user_map(mapping: dict[str, str | None], path: str | Path | None = None) -> Path:
    """Write the grader's own entries (the built-in aliases need not be repeated)."""
    file = Path(path) if path else user_map_file()
    clean = _validated(mapping, file)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(clean, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return file


def task_classes(task: str, border: str = "dual", classes: list[str] | None = None) -> list[str]:
    """The classes a dataset is built for: given explicitly, or the task's defaults."""
    return list(classes) if classes else default_classes(task, border)


def border_dropped(name: str, border: str) -> bool:
    """A border class the chosen border type leaves out on purpose (e.g. inner_border for `outer`)."""
    return name in BORDER_CLASSES["dual"] and name not in BORDER_CLASSES[border]

"""The plain data the dataset tools hand to the CLI and the GUI: dataclasses of str, int, float and lists.

Coordinates are normalised to the image (0..1, x to the right, y down), the convention of YOLO label
files; `Shape.pixels(width, height)` gives pixels for drawing. A box is stored as its four corners
(clockwise from top-left), so every kind of shape can be drawn as a closed polygon.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITIES = (ERROR, WARNING, INFO)

BOX, POLYGON, OBB = "box", "polygon", "obb"
SHAPE_KINDS = (BOX, POLYGON, OBB)


def bounds(points: list[list[float]]) -> tuple[float, float, float, float]:
    """x0, y0, x1, y1 around a list of points."""
    xs, ys = zip(*points)
    return min(xs), min(ys), max(xs), max(ys)


def plural(n: int, noun: str) -> str:
    """`1 label`, `2 labels`, `3 classes`: counts in sentences read right."""
    if n == 1:
        return f"{n} {noun}"
    return f"{n} {noun}es" if noun.endswith(("s", "x", "ch")) else f"{n} {noun}s"


@dataclass
class Finding:
    """One thing a grader should know about a file: `error` keeps it out of training, `warning` does not."""

    severity: str
    file: str  # the file it is about; "" when it is about the whole dataset
    message: str  # one sentence naming the file or value and what to do
    code: str  # a stable identifier, e.g. "truncated_image", "class_out_of_range"
    line: int | None = None  # 1-based line in a label file, when there is one
    splits: list[str] = field(default_factory=list)  # the source's splits its file is in (train, val, test)


@dataclass
class Shape:
    """One labelled object. `label` is the class name as the source spells it."""

    kind: str  # box | polygon | obb
    label: str
    points: list[list[float]]  # [[x, y], ...] normalised; a box or obb has 4 corners
    class_id: int | None = None  # the index in the source's class list, for YOLO labels
    ref: str = ""  # where it was read: "line 3", "object 2 ('card')", "shape 1 ('outer')", "annotation 17"
    difficult: bool = False  # Pascal VOC flags, kept for the report
    truncated: bool = False

    def pixels(self, width: int, height: int) -> list[list[float]]:
        return [[x * width, y * height] for x, y in self.points]

    def bounds(self) -> tuple[float, float, float, float]:
        return bounds(self.points)


@dataclass
class ImageItem:
    """One image as found, with its labels; `usable` is False when an error keeps it out of training."""

    image: str
    label_file: str | None  # the annotation file its labels came from (None: no labels, a background)
    source: int  # index into CheckReport.sources
    width: int = 0  # pixels as stored in the file (0 when unreadable)
    height: int = 0
    format: str = ""  # jpeg, png, ...
    digest: str = ""  # content hash, for finding duplicates
    orientation: int = 1  # EXIF orientation; 1 is upright
    shapes: list[Shape] = field(default_factory=list)
    split: str | None = None  # the split the source put it in, if any (the first, when it lists it in several)
    also_in: list[str] = field(default_factory=list)  # other splits the source lists the same file in
    side: str | None = None  # front or back when the file or folder name says so
    usable: bool = True

    @property
    def labelled(self) -> bool:
        return self.label_file is not None


@dataclass
class SourceInfo:
    """A dropped path and what was found in it."""

    path: str
    format: str  # yolo | coco | voc | labelme | images | none
    title: str  # e.g. "YOLO segment polygons"
    reason: str  # why that format was recognised
    names: list[str] | None = None  # class names the source declares, in id order
    images: int = 0
    label_files: int = 0
    ignored_files: int = 0  # files that are neither images nor labels


@dataclass
class QualityComponent:
    score: float  # 0..100
    weight: float
    detail: str


@dataclass
class Quality:
    score: int | None  # 0..100; None when there is no image to score
    components: dict[str, QualityComponent]


@dataclass
class CheckReport:
    """Everything `check` found: sources, images with their shapes, findings, counts and a quality score."""

    sources: list[SourceInfo]
    items: list[ImageItem]
    findings: list[Finding]
    counts: dict[str, Any]
    quality: Quality
    recommendations: list[str]
    task: str | None = None
    border: str | None = None
    seconds: float = 0.0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self, items: bool = True) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        if not items:
            out.pop("items")
        return out

"""What a reader returns: `Annotation`, what one annotation file says about one image, and `unreadable`,
the Annotation of a file that could not be read at all. Every reader in this package imports it; the
package's `__init__` re-exports both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cardgrader.data.model import ERROR, Finding, Shape


@dataclass
class Annotation:
    """What one annotation file says about one image, before the image itself is looked at."""

    shapes: list[Shape] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    normalised: bool = True  # False: points are pixels of an image of `size`
    size: tuple[int, int] | None = None  # (width, height) the annotation declares
    image_ref: str | None = None  # the image file name the annotation names
    four_point_obb: bool = False  # YOLO: a four-point row is an oriented box when its corners are right angles
    readable: bool = True  # False: the file itself could not be read


def unreadable(name: str, what: str, detail: str) -> Annotation:
    return Annotation(findings=[Finding(ERROR, name, f"{name} cannot be read as {what} ({detail}); "
                                                     "export it again or remove it.", "unreadable_label")],
                      readable=False)

"""Readers of one annotation file each: YOLO `.txt`, Pascal VOC `.xml`, LabelMe `.json` (COCO, one file for
many images, is read whole by `coco.read`). Each returns an `Annotation`; none raises for bad input."""

from __future__ import annotations

from cardgrader.data.readers import labelme, voc, yolo
from cardgrader.data.readers.annotation import Annotation, unreadable

# Annotation and unreadable live in `annotation`, which the readers import; importable from here as before.
__all__ = ["Annotation", "read", "unreadable"]


def read(reader: str, path, names: list[str] | None) -> Annotation:
    return {"yolo": yolo.read, "voc": voc.read, "labelme": labelme.read}[reader](path, names)

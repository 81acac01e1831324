"""The card grader's vocabulary, shared by data import, training and the GUI: one place per fact."""

from __future__ import annotations

ARCHS = ("detect", "segment", "obb")
ARCH_LABELS = {"detect": "Detection", "segment": "Segmentation", "obb": "Oriented boxes"}
TASKS = ("border", "corners", "edges", "surface", "centering")
TASK_LABELS = {"border": "Border", "corners": "Corners", "edges": "Edges", "surface": "Surface", "centering": "Centering"}
SIDES = ("front", "back", "both")
BORDERS = ("outer", "inner", "dual")
BORDER_LABELS = {"outer": "Outer (physical edge)", "inner": "Inner (printed border)", "dual": "Dual (both, two classes)"}

OUTER_BORDER = "outer_border"
INNER_BORDER = "inner_border"
BORDER_CLASSES = {"outer": [OUTER_BORDER], "inner": [INNER_BORDER], "dual": [OUTER_BORDER, INNER_BORDER]}
# The classes each task detects; border and centering take theirs from the border type.
TASK_CLASSES = {
    "corners": ["corner_sharp", "corner_worn"],
    "edges": ["edge_wear"],
    "surface": ["scratch", "dent", "crease"],
}


def default_classes(task: str, border: str) -> list[str]:
    """The class names a task trains, derived from the task and the border type."""
    if task in ("border", "centering"):
        return list(BORDER_CLASSES[border])
    return list(TASK_CLASSES[task])

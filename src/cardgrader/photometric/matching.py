"""Pairing two sets of boxes (model detections, PS defect regions, planted defects): one rule for all.

Two boxes describe the same defect when they overlap enough: intersection over union at least
`MIN_IOU`, or the smaller box mostly inside the larger (`MIN_COVER` of its area). The second rule keeps
a thin scratch's tight region matched to a loose box drawn around it. `match` pairs greedily, best
overlap first, each box used once (for counting found defects); `support` only asks whether each box
has any partner (two boxes a model draws on one scratch are both backed by it). Both take another
`rule` where a stricter one is stated (a card's outline is matched by `at_least_iou`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

MIN_IOU = 0.2
MIN_COVER = 0.5
SAME_DEFECT_DEFINITION = f"IoU >= {MIN_IOU}, or at least {MIN_COVER:.0%} of the smaller box inside the larger"

Box = Sequence[float]  # x0, y0, x1, y1 in pixels, inclusive
Rule = Callable[[Box, Box], bool]


def _area(b: Box) -> float:
    return max(0.0, b[2] - b[0] + 1) * max(0.0, b[3] - b[1] + 1)


def overlap(a: Box, b: Box) -> tuple[float, float]:
    """(intersection over union, intersection over the smaller box's area)."""
    iw = min(a[2], b[2]) - max(a[0], b[0]) + 1
    ih = min(a[3], b[3]) - max(a[1], b[1]) + 1
    if iw <= 0 or ih <= 0:
        return 0.0, 0.0
    inter = iw * ih
    area_a, area_b = _area(a), _area(b)
    return inter / (area_a + area_b - inter), inter / max(min(area_a, area_b), 1e-9)


def same_defect(a: Box, b: Box) -> bool:
    iou, cover = overlap(a, b)
    return iou >= MIN_IOU or cover >= MIN_COVER


def at_least_iou(threshold: float) -> Rule:
    """The rule: intersection over union at least `threshold`."""
    return lambda a, b: overlap(a, b)[0] >= threshold


@dataclass
class Matching:
    pairs: list[tuple[int, int]]  # (index in first, index in second)
    unmatched_first: list[int]
    unmatched_second: list[int]


def match(first: Sequence[Box], second: Sequence[Box], rule: Rule = same_defect) -> Matching:
    candidates = []
    for i, a in enumerate(first):
        for j, b in enumerate(second):
            if rule(a, b):
                iou, cover = overlap(a, b)
                candidates.append((iou + cover, i, j))
    candidates.sort(reverse=True)
    used_a, used_b, pairs = set(), set(), []
    for _score, i, j in candidates:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            pairs.append((i, j))
    return Matching(sorted(pairs), [i for i in range(len(first)) if i not in used_a],
                    [j for j in range(len(second)) if j not in used_b])


def support(first: Sequence[Box], second: Sequence[Box], rule: Rule = same_defect) -> tuple[list[bool], list[bool]]:
    """For each box of each set: does some box of the other set describe the same thing (by `rule`)?"""
    first_ok, second_ok = [False] * len(first), [False] * len(second)
    for i, a in enumerate(first):
        for j, b in enumerate(second):
            if rule(a, b):
                first_ok[i] = second_ok[j] = True
    return first_ok, second_ok

"""Seeded train/val/test split without leakage.

Identical photos (same content hash) always land in one split. The source's own split is kept when it
has at least train and val. Otherwise images are stratified by side and by which classes they show,
and each stratum is divided by the ratios, with rounding carried across strata so the totals match.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Callable

from cardgrader.data.layout import SPLITS
from cardgrader.data.model import ImageItem
from cardgrader.errors import ConfigError


def parse_ratios(text: str | tuple | list) -> tuple[float, float, float]:
    """`"0.8,0.2,0"` (or two numbers, or a tuple) → fractions of train, val and test that sum to 1."""
    try:
        parts = [float(p) for p in (text.split(",") if isinstance(text, str) else text)]
    except (TypeError, ValueError):
        parts = []
    if len(parts) == 2:
        parts.append(0.0)
    if len(parts) != 3 or min(parts) < 0 or sum(parts) <= 0:
        raise ConfigError(f"--split must be three shares for train, val and test such as 0.8,0.2,0; got {text!r}.",
                          field="split")
    if parts[0] <= 0 or parts[1] <= 0:
        raise ConfigError(f"--split must give train and val a share (training needs validation images); got {text!r}.",
                          field="split")
    total = sum(parts)
    return parts[0] / total, parts[1] / total, parts[2] / total


def assign(items: list[ImageItem], ratios: tuple[float, float, float], seed: int,
           stratum: Callable[[ImageItem], tuple] | None = None) -> list[str]:
    """The split of each item (same order as `items`)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        groups[item.digest or f"#{index}"].append(index)
    splits: list[str | None] = [None] * len(items)
    present = {items[i].split for i in range(len(items))}
    keep = {"train", "val"} <= present
    todo: dict[tuple, list[list[int]]] = defaultdict(list)
    for members in groups.values():
        existing = sorted((items[i].split for i in members if items[i].split in SPLITS), key=SPLITS.index)
        if keep and existing:
            for i in members:
                splits[i] = existing[0]
        else:
            key = stratum(items[members[0]]) if stratum else ()
            todo[key].append(members)
    rng = random.Random(seed)
    assigned = {s: 0 for s in SPLITS}
    seen = 0
    for key in sorted(todo, key=repr):
        strat = sorted(todo[key], key=lambda m: items[m[0]].image)
        rng.shuffle(strat)
        seen += len(strat)
        want_val = round(seen * ratios[1]) - assigned["val"]
        want_test = round(seen * ratios[2]) - assigned["test"]
        for n, members in enumerate(strat):
            split = "val" if n < want_val else "test" if n < want_val + want_test else "train"
            assigned[split] += 1
            for i in members:
                splits[i] = split
    _ensure(splits, groups, "val")
    _ensure(splits, groups, "train")
    return [s or "train" for s in splits]


def _ensure(splits: list[str | None], groups: dict[str, list[int]], needed: str) -> None:
    """Move one group into `needed` when it came out empty, taking it from the largest split."""
    if needed in splits or len(groups) < 2:
        return
    counts = {s: splits.count(s) for s in SPLITS}
    donor = max((s for s in SPLITS if s != needed), key=lambda s: counts[s])
    for members in reversed(list(groups.values())):
        if splits[members[0]] == donor:
            for i in members:
                splits[i] = needed
            return

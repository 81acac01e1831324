"""Seeded, stratified splits that never put the same photo in two splits and keep the source's own split."""

from __future__ import annotations

from collections import Counter

import pytest

from cardgrader.data import split
from cardgrader.data.model import ImageItem, Shape
from cardgrader.errors import ConfigError


def items(n, side=lambda i: "front" if i % 2 else "back", digest=lambda i: f"d{i}", existing=lambda i: None,
          label=lambda i: "outer_border"):
    return [ImageItem(f"/cards/img{i:03d}.jpg", f"/cards/img{i:03d}.txt", 0, digest=digest(i), split=existing(i),
                      side=side(i), shapes=[Shape("box", label(i), [[0, 0], [1, 0], [1, 1], [0, 1]])])
            for i in range(n)]


def stratum(item):
    return (item.side or "", tuple(sorted({s.label for s in item.shapes})))


def test_ratios_and_determinism():
    data = items(100)
    first = split.assign(data, (0.7, 0.2, 0.1), seed=5, stratum=stratum)
    assert Counter(first) == {"train": 70, "val": 20, "test": 10}
    assert split.assign(data, (0.7, 0.2, 0.1), seed=5, stratum=stratum) == first
    assert split.assign(list(reversed(data)), (0.7, 0.2, 0.1), seed=5, stratum=stratum) == list(reversed(first))
    assert split.assign(data, (0.7, 0.2, 0.1), seed=6, stratum=stratum) != first


def test_strata_are_split_in_proportion():
    data = items(60, side=lambda i: "front" if i < 40 else "back",
                 label=lambda i: "outer_border" if i % 3 else "inner_border")
    result = split.assign(data, (0.75, 0.25, 0.0), seed=0, stratum=stratum)
    for key in {stratum(i) for i in data}:
        members = [s for s, i in zip(result, data) if stratum(i) == key]
        assert abs(members.count("val") - len(members) * 0.25) <= 1, key


def test_duplicates_never_straddle_splits():
    data = items(40, digest=lambda i: f"d{i % 10}")  # every photo four times
    result = split.assign(data, (0.5, 0.5, 0.0), seed=1, stratum=stratum)
    by_digest = {}
    for item, s in zip(data, result):
        by_digest.setdefault(item.digest, set()).add(s)
    assert all(len(v) == 1 for v in by_digest.values())


def test_existing_splits_are_kept_and_duplicates_across_them_joined():
    data = items(10, existing=lambda i: "val" if i < 3 else "train", digest=lambda i: "same" if i in (2, 5) else f"d{i}")
    result = split.assign(data, (0.8, 0.2, 0.0), seed=0)
    assert result[:2] == ["val", "val"] and result[6:] == ["train"] * 4
    assert result[2] == result[5] == "train"  # the duplicate pair goes to one split


def test_a_single_existing_split_is_resplit_and_small_sets_get_both_splits():
    assert Counter(split.assign(items(10, existing=lambda i: "train"), (0.8, 0.2, 0.0), seed=0)) == {"train": 8, "val": 2}
    assert sorted(split.assign(items(2), (0.9, 0.1, 0.0), seed=0)) == ["train", "val"]


@pytest.mark.parametrize("text", ["0.8,0.2", "8,2,0", (0.8, 0.2, 0)])
def test_parse_ratios(text):
    assert split.parse_ratios(text) == pytest.approx((0.8, 0.2, 0.0))


@pytest.mark.parametrize("text", ["0.8", "a,b,c", "1,0,0", "-1,2,0", "0,0,0"])
def test_bad_ratios_name_the_option(text):
    with pytest.raises(ConfigError, match="--split"):
        split.parse_ratios(text)

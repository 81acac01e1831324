"""Shared facts about the Ultralytics layout: where a label lives, when a JPEG may be linked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cardgrader.data.layout import is_inside, label_file_for, label_path_for

S = os.sep


@pytest.mark.parametrize("image,label", [
    ("/a/images/x.jpg", "/a/labels/x.txt"),
    ("/a/images/train/x.y.png", "/a/labels/train/x.y.txt"),
    ("images/x.jpg", "labels/x.txt"),
    ("/a/images/b/images/c/x.JPG", "/a/images/b/labels/c/x.txt"),  # the last images folder
    ("/a/myimages/x.jpg", "/a/myimages/x.txt"),
    ("/a/images.old/x.jpg", "/a/images.old/x.txt"),
    ("/a/images/images.jpg", "/a/labels/images.txt"),
    ("/karten ü/images/karte 1.jpg", "/karten ü/labels/karte 1.txt"),
])
def test_label_paths_follow_ultralytics(image, label):
    image, label = image.replace("/", S), label.replace("/", S)
    assert label_file_for(image) == label
    assert label_path_for(Path(image)) == Path(label)


def test_is_inside(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert is_inside(tmp_path / "a" / "b", tmp_path / "a") and is_inside(tmp_path / "a", tmp_path / "a")
    assert not is_inside(tmp_path / "a", tmp_path / "a" / "b")

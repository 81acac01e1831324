"""Outputs written over where an earlier run left them hold exactly what the new run wrote."""

from __future__ import annotations

import numpy as np

from cardgrader.photometric.outfile import rewritten
from cardgrader.photometric.report import OutputWriter, _save


def test_a_longer_old_file_is_cut_to_what_was_written(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * 1000)
    inode = path.stat().st_ino
    with rewritten(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new"
    assert path.stat().st_ino == inode  # the same file, written over


def test_a_new_file_is_made_and_a_shorter_old_one_grows(tmp_path):
    with rewritten(tmp_path / "new.bin") as f:
        f.write(b"abc")
    assert (tmp_path / "new.bin").read_bytes() == b"abc"
    with rewritten(tmp_path / "new.bin") as f:
        f.write(b"abcdefgh" * 100)
    assert (tmp_path / "new.bin").read_bytes() == b"abcdefgh" * 100


def test_arrays_saved_over_each_other_load_as_the_last(tmp_path):
    path = tmp_path / "normals.npy"
    big, small = np.random.default_rng(0).random((300, 200, 3), np.float32), np.arange(12, dtype=np.float32)
    _save(path, big)
    _save(path, small)
    assert np.array_equal(np.load(path), small)
    _save(path, big)
    assert np.array_equal(np.load(path), big)


def test_an_earlier_runs_report_goes_before_anything_is_written(tmp_path):
    (tmp_path / "report.json").write_text("{}")
    writer = OutputWriter(tmp_path)
    assert not (tmp_path / "report.json").exists()
    writer.close()

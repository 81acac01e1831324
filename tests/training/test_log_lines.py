"""Ultralytics' console lines as the Train panel's log shows them: no orphan table header, and a
validation row with its own names instead of under the training-loss header."""

from __future__ import annotations

from cardgrader.training.child import readable_log_line


def test_the_console_table_header_is_left_out():
    assert readable_log_line("Epoch    GPU_mem   box_loss   cls_loss   dfl_loss  Instances       Size") is None


def test_a_validation_row_gets_its_names():
    assert readable_log_line("all         10         20      0.512      0.433      0.301      0.125") == \
        "Validation, all classes: 10 images, 20 labels · P 0.512 R 0.433 mAP50 0.301 mAP50-95 0.125"
    assert readable_log_line("outer_border  5  5  0.9  1  0.995  0.8") == \
        "Validation, outer_border: 5 images, 5 labels · P 0.9 R 1 mAP50 0.995 mAP50-95 0.8"
    assert readable_log_line("all 4 8 0.5 0.5 0.4 0.3 0.45 0.4 0.35 0.2") == \
        "Validation, all classes: 4 images, 8 labels · box P 0.5 R 0.5 mAP50 0.4 mAP50-95 0.3; " \
        "mask P 0.45 R 0.4 mAP50 0.35 mAP50-95 0.2"


def test_other_lines_are_kept_as_they_are():
    for line in ("Starting training for 3 epochs...", "all 10 20", "Results saved to /tmp/run",
                 "Transferred 355/355 items from pretrained weights"):
        assert readable_log_line(line) == line

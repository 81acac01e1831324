"""`cardgrader eval`: models scored side by side on a split they never trained on, through Ultralytics' validator."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from cardgrader.models import resolve_model
from cardgrader.models.evaluate import evaluate
from tests.conftest import tree_digest
from tests.models.trained_models import CLASSES, SIZE, card_models  # noqa: F401 - a fixture

CLI = [sys.executable, "-m", "cardgrader"]
METRIC_KEYS = ("precision", "recall", "mAP50", "mAP50_95")


def cli(*args, timeout=300):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def held_out(tmp_path_factory):
    """A dataset of cards the models never saw (another seed), built with train, val and test splits."""
    from cardgrader.data.build import import_dataset
    from cardgrader.data.classmap import ClassMap
    from cardgrader.data.sample import generate

    root = tmp_path_factory.mktemp("held-out")
    generate(root / "photos", count=10, seed=99, size=(SIZE, SIZE))
    result = import_dataset([root / "photos"], root / "dataset", arch="detect", task="border",
                            classes=list(CLASSES), split_ratios=(0.4, 0.2, 0.4), seed=1, force=True,
                            class_map=ClassMap())
    assert result.images.get("test", 0) >= 2, result.images
    return Path(result.root)


def test_eval_scores_two_models_side_by_side_on_the_test_split(card_models, held_out, home):
    model = card_models("detect")
    before = tree_digest(held_out)
    result = cli("eval", model.package, model.package / "best.pt", "--data", held_out, "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["name"] for r in rows] == ["tiny detect", "best"]
    for row in rows:
        assert row["split"] == "test" and row["images"] >= 2 and row["instances"] == 2 * row["images"]
        assert set(row["metrics"]) >= set(METRIC_KEYS)
        assert all(0.0 <= row["metrics"][k] <= 1.0 for k in METRIC_KEYS)
        assert [c["class"] for c in row["per_class"]] == list(CLASSES)
        for c in row["per_class"]:
            assert c["instances"] == row["images"] and all(0.0 <= c[k] <= 1.0 for k in METRIC_KEYS)
        matrix = Path(row["confusion_matrix"])
        assert matrix.name == "confusion_matrix.png" and (home / "evaluations") in matrix.parents
        assert cv2.imread(str(matrix)) is not None
        assert len(row["matrix"]) == len(CLASSES) + 1  # the classes and background
        assert json.loads((matrix.parent / "evaluation.json").read_text())["per_class"] == row["per_class"]
    assert rows[0]["confusion_matrix"] != rows[1]["confusion_matrix"]
    assert rows[0]["metrics"] == rows[1]["metrics"]  # the same weights score the same
    assert tree_digest(held_out) == before  # Ultralytics' label cache went to our staged copy


def test_eval_in_a_terminal_prints_a_table_per_model_and_class_and_says_where_the_matrix_is(card_models, held_out):
    model = card_models("detect")
    result = cli("eval", model.package, "--data", held_out / "data.yaml", "--split", "test")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "model        precision  recall  mAP50  mAP50-95" in out
    assert out.count("tiny detect") >= 3  # the overall row and one per class
    for name in CLASSES:
        assert f"{name}  tiny detect" in out
    line = next(line for line in out.splitlines() if line.startswith("Confusion matrix of 'tiny detect': "))
    assert Path(line.split(": ", 1)[1]).is_file()


@pytest.mark.parametrize("arch", ["segment", "obb"])
def test_segment_and_obb_models_report_their_own_metrics(arch, card_models):
    model = card_models(arch)
    [scored] = evaluate([resolve_model(model.package)], model.data, split="val")
    assert scored.arch == arch and scored.images == 3
    expected = set(METRIC_KEYS) | ({f"box_{k}" for k in METRIC_KEYS} if arch == "segment" else set())
    assert set(scored.metrics) == expected
    assert [c["class"] for c in scored.per_class] == list(CLASSES)
    if arch == "segment":  # mask metrics per class, with the box ones beside them
        assert all("box_mAP50" in c for c in scored.per_class)
    assert Path(scored.confusion_matrix).is_file()


def test_a_missing_split_other_classes_and_bad_values_are_sentences(card_models, held_out, tmp_path):
    model = card_models("detect")
    other = tmp_path / "outer-only"
    shutil.copytree(held_out, other)
    spec = (other / "data.yaml").read_text().replace("1: inner_border", "1: corner_worn")
    (other / "data.yaml").write_text(spec)
    cases = [
        ((model.package, "--data", model.data), 1, f"The dataset {model.data} has no test split (it has train, val)"),
        ((model.package, "--data", other), 1, "detects outer_border, inner_border but the dataset"),
        ((model.package, "--data", held_out, "--split", "holdout"), 2, "--split must be one of train, val, test"),
        ((model.package, "--data", tmp_path / "nowhere"), 1, "does not exist"),
        (("nothing-here", "--data", held_out), 2, "No model, run, model package or weights file matches"),
    ]
    for args, code, message in cases:
        result = cli("eval", *args)
        assert result.returncode == code, (args, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.startswith("cardgrader:")]
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr, result.stderr

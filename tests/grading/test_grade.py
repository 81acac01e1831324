"""`center` and `grade` on sample cards with a border model the engine really trained."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import tree_digest

CLI = [sys.executable, "-m", "cardgrader"]
_MODEL: dict[str, Path] = {}


def cli(*args, home: Path, timeout=600):
    import os

    env = {**os.environ, "CARDGRADER_HOME": str(home)}
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def border_home(tmp_path_factory):
    """A data folder whose library holds a dual border model for fronts, trained by the engine.

    Centering needs borders boxed to a few pixels: `first-model` (mAP50-95 about 0.6) finds them but not that
    tightly; fronts only, small photos and light augmentation give mAP50-95 about 0.8 in about 4 minutes here.
    """
    if "home" in _MODEL:
        return _MODEL["home"]
    from cardgrader.data.sample import generate

    root = tmp_path_factory.mktemp("grading")
    generate(root / "cards", count=80, seed=0, side="front", size=(240, 320))
    config = root / "border.yaml"
    config.write_text("task: border\nside: front\nborder: dual\narch: detect\nepochs: 60\nimgsz: 160\n"
                      "batch: 4\naugment: light\n", encoding="utf-8")
    result = cli("train", "--config", config, "--data", root / "cards", "--name", "border", home=root / "home",
                 timeout=1200)
    assert result.returncode == 0, result.stderr
    _MODEL["home"] = root / "home"
    return _MODEL["home"]


@pytest.fixture
def fresh_cards(tmp_path):
    from cardgrader.data.sample import generate

    generate(tmp_path / "new", count=4, seed=123, side="front", size=(240, 320))
    truth = json.loads((tmp_path / "new" / "truth.json").read_text())
    return tmp_path / "new", truth


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.text = [], []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))

    def handle_data(self, data):
        self.text.append(data)


def test_center_json_matches_the_truth_on_fresh_cards(border_home, fresh_cards, tmp_path):
    folder, truth = fresh_cards
    result = cli("center", "border", folder / "images", "--json", "--out", tmp_path / "out", home=border_home)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 4
    by_name = {Path(t["image"]).name: t for t in truth}
    for record in records:
        assert set(record) >= {"image", "lr", "tb", "lr_worst", "tb_worst", "angle_deg", "borders_px", "samples_px",
                               "refined", "bands", "overlay"}
        assert set(record["bands"]) == {"psa", "bgs", "cgc"} and "grade" in record["bands"]["psa"]
        expected = by_name[Path(record["image"]).name]
        assert abs(record["lr"] - expected["centering_lr"]) < 2.0 and abs(record["tb"] - expected["centering_tb"]) < 2.0
        assert Path(record["overlay"]).is_file() and record["refined"] is True


def test_grade_writes_a_report_whose_html_holds_the_overlay_and_escapes_names(border_home, fresh_cards, tmp_path):
    folder, _truth = fresh_cards
    photos = tmp_path / "my photos"
    photos.mkdir()
    hostile = photos / "<img src=x onerror=alert(1)>.jpg"
    shutil.copyfile(next((folder / "images").glob("*.jpg")), hostile)
    before = tree_digest(photos)
    out = tmp_path / "reports"
    result = cli("grade", "--front", hostile, "--out", out, "--json", home=border_home)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout.splitlines()[-1])
    report = json.loads(Path(printed["report"]).read_text())
    assert set(report) >= {"card", "front", "subgrades", "overall", "models", "notes"}
    assert report["front"]["centering"]["lr"] >= 50 and set(report["overall"]) == {"psa", "bgs", "cgc"}
    assert report["subgrades"]["corners"]["grade"] is None  # no corners model: said, not made up
    assert any("corners" in note for note in report["notes"])
    page = Path(printed["html"]).read_text(encoding="utf-8")
    parser = _Collect()
    parser.feed(page)
    assert any(img.get("alt") == "centering overlay" and img["src"].startswith("data:image/png;base64,")
               for img in parser.images)
    assert "<img src=x onerror" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x onerror=alert(1)>" in "".join(parser.text)  # shown as text
    assert tree_digest(photos) == before


def test_a_folder_gives_one_report_per_card_and_names_the_unreadable_photo(border_home, fresh_cards, tmp_path):
    folder, _truth = fresh_cards
    photos = tmp_path / "fronts"
    shutil.copytree(folder / "images", photos)
    (photos / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    out = tmp_path / "reports"
    result = cli("grade", "--front", photos, "--out", out, home=border_home)
    assert result.returncode == 1
    assert "broken.jpg" in result.stderr and "Traceback" not in result.stderr
    rows = list(csv.DictReader((out / "summary.csv").open(encoding="utf-8")))
    assert len(rows) == 5
    assert [r["card"] for r in rows if r["error"]] == ["broken"]
    for row in rows:
        if not row["error"]:
            assert Path(row["report"]).is_file() and (Path(row["report"]).parent / "report.html").is_file()
            assert row["psa"]


def test_center_without_a_usable_model_or_photo_is_a_sentence(border_home, tmp_path):
    result = cli("center", "no-such-model", tmp_path, home=border_home)
    assert result.returncode == 2 and "no-such-model" in result.stderr and "Traceback" not in result.stderr
    (tmp_path / "empty").mkdir()
    result = cli("center", "border", tmp_path / "empty", home=border_home)
    assert result.returncode == 1 and "No images" in result.stderr


def test_a_photometric_capture_alone_gives_surface_evidence_and_says_what_was_not_assessed(tmp_path, home):
    """No model in the library: centering, corners and edges are named as not measured, and the surface
    sub-grade comes from photometric stereo's defect map alone."""
    import cv2

    from cardgrader.photometric import synthetic

    card = synthetic.card(128, 96, dents=2, scratches=1, seed=8)
    capture = synthetic.render(card.height, card.normals, card.mask, synthetic.ring_lights(6, 30, 10),
                               albedo=card.albedo, noise=0.004)
    capture_dir = synthetic.write_capture(tmp_path / "capture", capture)
    (tmp_path / "photos").mkdir()
    front = tmp_path / "photos" / "front.png"
    cv2.imwrite(str(front), cv2.imread(str(next(capture_dir.glob("*.png")))))
    result = cli("grade", "--front", front, "--ps", capture_dir, "--out", tmp_path / "report", "--json", home=home)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout.splitlines()[-1])
    report = json.loads(Path(printed["report"]).read_text())
    regions = report["photometric"]["surface"]["regions"]
    assert len(regions) >= 1
    surface = report["subgrades"]["surface"]
    assert surface["grade"] is not None and surface["findings_used"] >= 1 and surface["estimate"] is True
    assert report["subgrades"]["corners"]["grade"] is None and report["subgrades"]["centering"] == {}
    assert any("Centering was not measured" in n for n in report["notes"])
    assert report["overall"]["psa"]["limited_by"] == "surface"
    parser = _Collect()
    parser.feed(Path(printed["html"]).read_text(encoding="utf-8"))
    assert any(img.get("alt") == "defect map" for img in parser.images)

"""`cardgrader ps solve` and `ps calibrate` as a user runs them."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from cardgrader.cli import main
from cardgrader.commands.ps import ProgressLine
from cardgrader.photometric import synthetic
from tests.conftest import tree_digest
from tests.photometric.test_capture import BAD_INPUTS, bad_capture


@pytest.fixture
def capture_dir(tmp_path):
    card = synthetic.card(160, 120, dents=2, scratches=2, seed=3)
    capture = synthetic.render(card.height, card.normals, card.mask, synthetic.ring_lights(8, 35, 10),
                               albedo=card.albedo, noise=0.004, seed=1)
    return synthetic.write_capture(tmp_path / "capture", capture, bits=16, mask=True)


def test_solve_writes_every_output_and_never_touches_the_capture(tmp_path, capture_dir, capsys):
    before = tree_digest(capture_dir)
    out = tmp_path / "out"
    assert main(["ps", "solve", str(capture_dir), "--out", str(out)]) == 0
    assert tree_digest(capture_dir) == before
    text = capsys.readouterr().out
    assert "Surface integrity" in text and "2 dents, 2 scratches" in text
    normals = np.load(out / "normals.npy")
    assert normals.shape == (160, 120, 3) and normals.dtype == np.float32
    assert np.load(out / "albedo.npy").shape == (160, 120)
    assert np.load(out / "depth.npy").shape == (160, 120)
    for name in ("normal_map.png", "shaded.png"):
        assert cv2.imread(str(out / name)).shape == (160, 120, 3)
    assert cv2.imread(str(out / "defects.png")).shape == (640, 480, 3)  # small captures are drawn larger
    report = json.loads((out / "report.json").read_text())
    assert report["surface"]["counts"] == {"crease": 0, "dent": 2, "scratch": 2}
    assert 0 <= report["surface"]["integrity"] < 100 and "weight(kind)" in report["surface"]["integrity_definition"]
    assert report["normals"]["method"] == "robust" and report["mask"] is True


def test_solve_json_and_l2(tmp_path, capture_dir, capsys):
    assert main(["ps", "solve", str(capture_dir), "--method", "l2", "--out", str(tmp_path / "o"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["normals"]["method"] == "l2"
    assert set(report["outputs"]) >= {"normals.npy", "albedo.npy", "depth.npy", "normal_map.png", "defects.png", "report.json"}


def test_the_pictures_written_where_their_rows_lie_hold_what_is_drawn(tmp_path):
    """normal_map.png, and from 480 px on its short side defects.png, are made where the PNG file's rows
    lie: the files hold what `normal_map_image` and `defects_image` draw, pixel for pixel."""
    from cardgrader.photometric.capture import load_capture
    from cardgrader.photometric.pipeline import analyse_capture
    from cardgrader.photometric.report import defects_image, normal_map_image, write_outputs

    card = synthetic.card(560, 480, dents=2, scratches=1, seed=5)
    rendered = synthetic.render(card.height, card.normals, card.mask, synthetic.ring_lights(8, 35, 10),
                                albedo=card.albedo, noise=0.003, seed=2)
    analysis = analyse_capture(load_capture(synthetic.write_capture(tmp_path / "c", rendered, bits=16)), "l2")
    assert analysis.defects.regions
    write_outputs(analysis, tmp_path / "out")
    assert np.array_equal(cv2.imread(str(tmp_path / "out" / "defects.png")), defects_image(analysis))
    assert np.array_equal(cv2.imread(str(tmp_path / "out" / "normal_map.png")), normal_map_image(analysis.result.normals))


@pytest.mark.parametrize("work_side", [1000, 200], ids=["own pixels", "2 x 2 means"])
def test_defects_png_drawn_while_the_regions_are_measured_holds_the_finished_map(tmp_path, work_side):
    """`ps solve` draws defects.png from the regions' outline, before they are measured: the file holds what
    `defects_image` draws from the finished map, pixel for pixel, on the capture's pixels and on means."""
    from cardgrader.photometric.capture import load_capture
    from cardgrader.photometric.defects import DefectSettings
    from cardgrader.photometric.pipeline import analyse_capture
    from cardgrader.photometric.report import OutputWriter, defects_image

    card = synthetic.card(560, 480, dents=2, scratches=1, seed=5)
    rendered = synthetic.render(card.height, card.normals, card.mask, synthetic.ring_lights(8, 35, 10),
                                albedo=card.albedo, noise=0.003, seed=2)
    capture = load_capture(synthetic.write_capture(tmp_path / "c", rendered, bits=16))
    writer = OutputWriter(tmp_path / "out")
    outlines = []

    def outlined(outline):
        outlines.append(outline)
        writer.outlined(outline)

    analysis = analyse_capture(capture, "l2", defect_settings=DefectSettings(work_side=work_side),
                               solved=writer.solved, integrated=writer.integrated, outlined=outlined)
    assert analysis.defects.factor == (1 if work_side == 1000 else 2)
    assert len(outlines) == 1 and analysis.defects.regions
    assert outlines[0].boxes == [(r.id, r.kind, r.bbox) for r in analysis.defects.regions]
    assert np.array_equal(outlines[0].mask, analysis.defects.mask)
    assert "defects.png" in writer._jobs  # started from the outline, before finish
    writer.finish(analysis)
    assert np.array_equal(cv2.imread(str(tmp_path / "out" / "defects.png")), defects_image(analysis))


def test_solve_refuses_to_write_into_the_capture(capture_dir, capsys):
    before = tree_digest(capture_dir)
    assert main(["ps", "solve", str(capture_dir), "--out", str(capture_dir)]) == 2
    assert "only read" in capsys.readouterr().err
    assert tree_digest(capture_dir) == before


@pytest.mark.parametrize("case, message", BAD_INPUTS, ids=[c for c, _ in BAD_INPUTS])
def test_bad_captures_end_in_one_line_and_exit_1(tmp_path, capture_dir, capsys, case, message):
    folder = bad_capture(tmp_path, capture_dir, case)
    assert main(["ps", "solve", str(folder), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("cardgrader: ") and "\n" not in err and "Traceback" not in err


def test_lights_and_mask_can_be_given_separately(tmp_path, capture_dir, capsys):
    lights = tmp_path / "rig.json"
    (capture_dir / "lights.json").rename(lights)
    mask = tmp_path / "card-mask.png"
    (capture_dir / "mask.png").rename(mask)
    assert main(["ps", "solve", str(capture_dir), "--lights", str(lights), "--mask", str(mask),
                 "--out", str(tmp_path / "o"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["lights"] == str(lights)


def test_calibrate_then_solve_with_the_calibrated_lights(tmp_path, capsys):
    true = synthetic.ring_lights(8, 35, 10)
    sphere = tmp_path / "sphere"
    sphere.mkdir()
    images, mask = synthetic.mirror_sphere(200, true, noise=0.01)
    for i, image in enumerate(images):
        cv2.imwrite(str(sphere / f"light_{i:02d}.png"), np.round(image * 255).astype(np.uint8))
    cv2.imwrite(str(sphere / "mask.png"), mask.astype(np.uint8) * 255)
    before = tree_digest(sphere)
    lights = tmp_path / "lights.json"
    assert main(["ps", "calibrate", str(sphere), "--out", str(lights)]) == 0
    assert "Wrote 8 light directions" in capsys.readouterr().out
    assert tree_digest(sphere) == before
    spec = json.loads(lights.read_text())
    assert spec["images"] == [f"light_{i:02d}.png" for i in range(8)]
    card = synthetic.card(96, 72, dents=1, seed=2)
    capture = synthetic.render(card.height, card.normals, card.mask, true, albedo=card.albedo, shadows=False)
    folder = synthetic.write_capture(tmp_path / "card", capture)
    (folder / "lights.json").unlink()
    assert main(["ps", "solve", str(folder), "--lights", str(lights), "--out", str(tmp_path / "o")]) == 0
    normals = np.load(tmp_path / "o" / "normals.npy")
    assert synthetic.angular_error(normals, card.normals).mean() < 1.0


def test_calibrate_without_a_mask_says_what_to_do(tmp_path, capsys):
    sphere = tmp_path / "sphere"
    sphere.mkdir()
    for i in range(3):
        cv2.imwrite(str(sphere / f"{i}.png"), np.full((20, 20), 100, np.uint8))
    assert main(["ps", "calibrate", str(sphere), "--out", str(tmp_path / "l.json")]) == 1
    assert "mask.png" in capsys.readouterr().err


def test_the_installed_command_prints_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "cardgrader", "ps", "solve", str(tmp_path / "missing"),
                             "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == f"cardgrader: The capture folder {tmp_path / 'missing'} does not exist or is not a folder."


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_redraws_on_a_terminal_and_stays_silent_otherwise():
    terminal, pipe = FakeTerminal(), io.StringIO()
    for stream in (terminal, pipe):
        line = ProgressLine(True, stream)
        for fraction in (0.0, 0.5, 1.0):
            line(fraction, "solving normals (robust)")
        line.close()
    assert "\r[############............]  50.0% solving normals (robust)" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r\x1b[K") and pipe.getvalue() == ""

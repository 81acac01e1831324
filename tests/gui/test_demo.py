"""`cardgrader gui --demo --stats s.json --screenshot s.png --exit-after-train`, as a user types it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from PIL import Image

pytestmark = pytest.mark.gui


def test_demo_trains_through_the_real_panels_and_reports(tmp_path):
    stats, shot = tmp_path / "s.json", tmp_path / "s.png"
    env = {**os.environ, "CARDGRADER_HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    result = subprocess.run([sys.executable, "-m", "cardgrader", "gui", "--demo", "--stats", str(stats),
                             "--screenshot", str(shot), "--exit-after-train"],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(stats.read_text())
    assert figures["run_status"] == "finished" and figures["progress"] == 1.0
    assert figures["chart_points"] > 0 and figures["probe_samples"] > 100
    for key in ("startup_seconds", "stall_p99_ms", "stall_max_ms"):
        assert isinstance(figures[key], float) and figures[key] >= 0
    with Image.open(shot) as image:
        assert image.width >= 1000 and image.height >= 700  # the whole window, not a fragment
    runs = json.loads(subprocess.run([sys.executable, "-m", "cardgrader", "runs", "list", "--json"],
                                     capture_output=True, text=True, env=env).stdout)
    assert [r["status"] for r in runs] == ["finished"]

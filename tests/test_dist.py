"""The packaged app: `scripts/dist.sh` builds it with PyInstaller from this tree, and `scripts/dist-check.sh`
unpacks the archive and runs the frozen self-test with no network, the frozen GUI's demo training, and the
start-up comparison. Several minutes and ~5 GB of disk: marked slow (CI runs it)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_the_frozen_app_builds_trains_and_makes_no_connection(tmp_path):
    try:
        env = {**os.environ, "DIST_DIR": str(tmp_path / "dist"), "BUILD_DIR": str(tmp_path / "build"),
               "PY": sys.executable, "FLAVOUR": "cpu"}
        env.pop("DISPLAY", None)  # dist-check starts its own virtual screens
        build = subprocess.run(["bash", "scripts/dist.sh"], cwd=REPO, env=env, capture_output=True, text=True)
        assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
        assert re.search(r"dist: .* MiB unpacked\), .*\.tar\.gz \(\d+ MiB\)", build.stdout), build.stdout[-2000:]

        check = subprocess.run(["bash", "scripts/dist-check.sh"], cwd=REPO, env=env, capture_output=True, text=True)
        output = check.stdout + check.stderr
        assert check.returncode == 0, output[-4000:]
        for step in ("sample", "train", "predict", "center", "grade", "window"):
            assert re.search(rf"^ok\s+{step}\b", check.stdout, re.M), f"frozen self-test step {step}:\n{output[-3000:]}"
        assert "to IPv4/IPv6 addresses: 0" in check.stdout
        stats = json.loads((tmp_path / "dist" / "check-cpu" / "frozen-stats.json").read_text())
        assert stats["run_status"] == "finished" and stats["progress"] == 1.0
        assert (tmp_path / "dist" / "check-cpu" / "frozen-gui.png").stat().st_size > 10_000
        assert re.search(r"start-up .*: frozen [0-9.]+ s .*unfrozen [0-9.]+ s .*ratio [0-9.]+", check.stdout)
    finally:  # about 5.5 GB: not left for pytest's kept temporary folders (the check's logs stay)
        shutil.rmtree(tmp_path / "build", ignore_errors=True)
        shutil.rmtree(tmp_path / "dist" / "cpu", ignore_errors=True)
        for archive in (tmp_path / "dist").glob("*.tar.gz"):
            archive.unlink()

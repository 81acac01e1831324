"""`cardgrader self-test`: the steps really run (a real one-epoch training), the user's data dir is not
touched, and a failing step ends the test with exit 1 and that step's error."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from cardgrader import selftest

STEP_NAMES = ["sample", "train", "predict", "center", "grade"]


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cardgrader", *args], capture_output=True, text=True,
                          env=env or os.environ.copy(), timeout=600)


def test_self_test_runs_every_step_in_its_own_data_folder(home, tmp_path):
    keep = tmp_path / "self-test"
    result = _cli("self-test", "--no-window", "--json", "--keep", str(keep))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["step"] for line in lines] == STEP_NAMES + ["summary"]
    assert all(line["ok"] for line in lines), lines
    assert all(line["seconds"] >= 0 for line in lines)
    # It trained for real in its own data dir: a finished run with weights and a model package.
    runs = [p for p in (keep / "home" / "runs").iterdir() if p.is_dir()]
    assert len(runs) == 1 and (runs[0] / "model" / "metadata.json").is_file()
    assert (runs[0] / "weights" / "last.pt").is_file()
    assert (keep / "grade" / "report.html").is_file() and (keep / "grade" / "report.json").is_file()
    assert list((keep / "predictions").glob("*.overlay.*")), "the prediction overlay is missing"
    center = next(line for line in lines if line["step"] == "center")["detail"]
    assert "L/R" in center and "PSA ceiling" in center
    # The user's data dir (CARDGRADER_HOME of the caller) got nothing: no runs, no models.
    assert not (home / "runs").exists() or not [p for p in (home / "runs").iterdir() if p.is_dir()]


def test_self_test_cleans_up_after_itself(tmp_path):
    env = os.environ.copy()
    env["TMPDIR"] = str(tmp_path)
    result = _cli("self-test", "--no-window", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("\nok   ") + result.stdout.startswith("ok   ") == len(STEP_NAMES)
    assert "self-test passed" in result.stdout
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("cardgrader-self-test-")]


def test_a_failing_step_stops_the_test_with_its_error(tmp_path, monkeypatch):
    said: list[selftest.StepResult] = []

    def broken(_ctx):
        raise RuntimeError("the child process could not start")

    steps = [("sample", selftest.sample), ("train", broken), ("predict", selftest.predict)]
    results = selftest.run(steps, said.append, keep=tmp_path / "work")
    assert [r.name for r in results] == ["sample", "train"]  # predict never ran
    assert results[0].ok and not results[1].ok
    assert "the child process could not start" in results[1].detail
    assert said == results
    assert results[1].line().startswith("FAIL train")
    assert os.environ.get("CARDGRADER_HOME") != str(tmp_path / "work" / "home")  # restored afterwards

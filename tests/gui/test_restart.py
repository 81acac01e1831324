"""After a restart (a new process): the Data panel holds the last session's sources again, read anew, and
the Train panel shows the latest run that can be resumed, with Resume on."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

CODE = r"""
import json, sys, time
from cardgrader.gui.settings import Settings
from cardgrader.training import events
from cardgrader.training.config import TrainingConfig
from cardgrader.training.store import RunStore

folder, gone = sys.argv[1], sys.argv[2]
Settings().set("last_sources", [folder, gone])
store = RunStore()
record = store.create(TrainingConfig(epochs=3, imgsz=64, name="overnight border"))
store.record_event(record.id, {"type": events.EPOCH, "epoch": 2, "metrics": {}})
store.record_event(record.id, {"type": events.CANCELLED, "time": time.time()})

from cardgrader.gui.app import MainWindow
w = MainWindow(); w.update(); w._after_startup()
deadline = time.time() + 90
while time.time() < deadline and (w.data_panel.report is None or w.data_panel.task is not None):
    w.update(); time.sleep(0.02)
w.update()
print(json.dumps({"sources": w.data_panel.paths, "images": w.data_panel.report.counts["images"],
                  "message": w.last_message[0], "status": w.train_panel.status.cget("text"),
                  "resume": w.train_panel.resume_button.cget("state"), "followed": w.train_panel.run_id == record.id,
                  "start": w.train_panel.start_button.cget("state")}))
w.bridge.shutdown(); w.destroy()
"""


def test_a_restart_restores_the_sources_and_shows_the_resumable_run(tmp_path):
    if not os.environ.get("DISPLAY"):
        pytest.skip("no display")
    from cardgrader.data.sample import generate

    generate(tmp_path / "cards", count=4, seed=2, size=(160, 200))
    env = {**os.environ, "CARDGRADER_HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    result = subprocess.run([sys.executable, "-c", CODE, str(tmp_path / "cards"), str(tmp_path / "moved away")],
                            capture_output=True, text=True, env=env, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    state = json.loads(result.stdout.strip().splitlines()[-1])
    assert state["sources"] == [str(tmp_path / "cards")] and state["images"] == 4
    assert "Restored the 1 source of your last session" in state["message"]
    assert str(tmp_path / "moved away") in state["message"]
    assert state["status"] == "Last run 'overnight border' was stopped after 2 of 3 epochs; Resume continues it"
    assert state["resume"] == "normal" and state["followed"]
    assert state["start"] == "normal"  # the sources are ready: a new run can start as well

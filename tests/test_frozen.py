"""The packaged app's entry point: with no console (sys.stdout is None, as in a windowed build), output goes
to the log file instead of crashing the first print or Ultralytics' logger."""

from __future__ import annotations

import subprocess
import sys


def test_missing_streams_go_to_the_log(home):
    code = ("import sys; sys.stdout = None; sys.stderr = None\n"
            "from cardgrader.frozen import ensure_streams\n"
            "path = ensure_streams()\n"
            "print('printed by a windowed app'); sys.stderr.write('an error line\\n'); sys.stdout.flush()\n"
            "sys.__stdout__.write(path)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    log = home / "logs" / "app-output.log"
    assert result.stdout == str(log)
    assert log.read_text(encoding="utf-8") == "printed by a windowed app\nan error line\n"


def test_streams_that_exist_are_left_alone(home):
    from cardgrader.frozen import ensure_streams

    before = (sys.stdout, sys.stderr)
    assert ensure_streams() is None
    assert (sys.stdout, sys.stderr) == before
    assert not (home / "logs" / "app-output.log").exists()


def test_python_m_cardgrader_runs_the_command_line():
    result = subprocess.run([sys.executable, "-m", "cardgrader", "--version"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("cardgrader ")

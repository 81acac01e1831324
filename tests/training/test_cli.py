"""The command line as README.md and docs/ARCHITECTURE.md specify it, driven as a user (or a benchmark) would: in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from cardgrader.training import events

CLI = [sys.executable, "-m", "cardgrader"]


def cli(*args, timeout=180):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def start_train(data, *extra, epochs=3):
    """`cardgrader train --json` in the background, in its own process group like a terminal job."""
    return subprocess.Popen(
        [*CLI, "train", "--preset", "quick-test", "--data", str(data), "--epochs", str(epochs), "--imgsz", "64",
         "--batch", "2", "--json", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def read_until(proc, predicate, timeout=120):
    lines = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        event = json.loads(line)
        lines.append(event)
        if predicate(event):
            return lines
    raise AssertionError(f"no matching event; got {[e['type'] for e in lines]}; stderr: {proc.stderr.read()[:2000]}")


def test_train_json_then_runs_list_show_delete(card_dataset):
    data = card_dataset("detect", count=10, size=96)
    result = cli("train", "--preset", "quick-test", "--data", data, "--epochs", 2, "--imgsz", 64, "--name", "cli run", "--json")
    assert result.returncode == 0, result.stderr
    stream = [json.loads(line) for line in result.stdout.splitlines()]
    assert stream[0]["type"] == "run_started" and stream[0]["run"]
    assert stream[-1]["type"] == "finished"
    assert all(e["type"] in events.TYPES and e["run"] == stream[0]["run"] for e in stream)
    run_id = stream[0]["run"]

    listed = json.loads(cli("runs", "list", "--json").stdout)
    assert len(listed) == 1
    row = listed[0]
    for key in ("id", "name", "status", "task", "arch", "epochs", "epochs_done", "best_mAP50_95"):
        assert key in row
    assert (row["id"], row["name"], row["status"], row["epochs"], row["epochs_done"]) == (run_id, "cli run", "finished", 2, 2)

    shown = json.loads(cli("runs", "show", "cli run", "--json").stdout)
    assert shown["id"] == run_id and shown["config"]["epochs"] == 2 and shown["last_epoch"]["epoch"] == 2
    text = cli("runs", "list").stdout
    assert "cli run" in text and "finished" in text

    again = cli("runs", "resume", run_id)
    assert again.returncode == 2 and "already finished" in again.stderr

    assert cli("runs", "delete", run_id).returncode == 0
    assert json.loads(cli("runs", "list", "--json").stdout) == []
    missing = cli("runs", "show", run_id)
    assert missing.returncode == 2 and "No run matches" in missing.stderr and "Traceback" not in missing.stderr


def test_ctrl_c_cancels_cleanly_with_exit_130_and_leaves_a_resumable_run(card_dataset):
    proc = start_train(card_dataset("detect", count=40, size=96))
    seen = read_until(proc, lambda e: e["type"] == "batch" and e["epoch"] == 2)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
    out, err = proc.communicate(timeout=30)
    rest = [json.loads(line) for line in out.splitlines()]
    assert proc.returncode == 130, err
    assert rest[-1]["type"] == "cancelled" and rest[-1]["epoch"] == 1
    assert "Traceback" not in err
    run_id = seen[0]["run"]
    assert json.loads(cli("runs", "show", run_id, "--json").stdout)["status"] == "cancelled"
    resumed = cli("runs", "resume", run_id, "--json")
    assert resumed.returncode == 0, resumed.stderr
    lines = [json.loads(line) for line in resumed.stdout.splitlines()]
    assert lines[0]["type"] == "run_started" and lines[0]["resumed_from_epoch"] == 1
    assert [e["epoch"] for e in lines if e["type"] == "epoch"] == [2, 3]


def test_kill_9_of_the_app_then_resume_completes_with_one_history(card_dataset, home):
    proc = start_train(card_dataset("detect", count=40, size=96), epochs=4)
    seen = read_until(proc, lambda e: e["type"] == "batch" and e["epoch"] == 2 and e["batch"] >= 5)
    run_id = seen[0]["run"]
    children = psutil.Process(proc.pid).children(recursive=True)
    assert children, "the training runs in a child process"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, "the training child must not outlive the app"

    row = json.loads(cli("runs", "show", run_id, "--json").stdout)
    assert row["status"] == "interrupted" and row["epochs_done"] >= 1

    resumed = cli("runs", "resume", run_id, "--json")
    assert resumed.returncode == 0, resumed.stderr
    stream = events.read(home / "runs" / run_id / "events.jsonl")
    starts = [e for e in stream if e["type"] == "run_started"]
    assert len(starts) == 2 and starts[1]["resumed_from_epoch"] >= 1
    epochs = [e["epoch"] for e in stream if e["type"] == "epoch"]
    assert epochs == [1, 2, 3, 4], epochs  # one continuous history, each epoch once
    assert stream[-1]["type"] == "finished" and stream[-1]["epoch"] == 4
    assert json.loads(cli("runs", "show", run_id, "--json").stdout)["status"] == "finished"


def test_runs_cancel_from_another_process_and_a_refused_second_start(card_dataset):
    data = card_dataset("detect", count=40, size=96)
    proc = start_train(data, "--name", "long one", epochs=3)
    seen = read_until(proc, lambda e: e["type"] == "batch")
    run_id = seen[0]["run"]

    second = cli("train", "--preset", "quick-test", "--data", data, "--epochs", 1)
    assert second.returncode == 1
    assert "'long one'" in second.stderr and run_id in second.stderr and "Traceback" not in second.stderr

    cancel = cli("runs", "cancel", run_id)
    assert cancel.returncode == 0, cancel.stderr
    assert "cancelled" in cancel.stdout
    proc.communicate(timeout=30)
    assert proc.returncode == 130
    not_running = cli("runs", "cancel", run_id)
    assert not_running.returncode == 1 and "not running" in not_running.stderr


@pytest.mark.parametrize("argv,code,needle", [
    (["train"], 2, "one of the arguments --config --preset is required"),
    (["runs"], 2, "required"),
    (["train", "--preset", "quick-test", "--data", "/definitely/not/here"], 1, "does not exist"),
    (["train", "--preset", "quick-test", "--epochs", "x"], 2, "invalid int value"),
])
def test_usage_and_data_errors_have_their_exit_codes(argv, code, needle):
    result = cli(*argv)
    assert result.returncode == code, result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr


def test_version_and_doctor():
    assert cli("--version").stdout.strip().startswith("cardgrader ")
    report = json.loads(cli("doctor", "--json").stdout)
    names = {c["name"]: c for c in report["checks"]}
    for key in ("python", "torch", "devices", "tk", "tkdnd", "display", "writable data dir", "offline mode"):
        assert key in names
    assert names["torch"]["ok"] and names["writable data dir"]["ok"]
    assert any(d["device"] == "cpu" for d in names["devices"]["devices"])

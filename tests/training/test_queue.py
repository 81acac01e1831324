"""The training queue through its command line, as a grader leaving trainings overnight would use it:
jobs run in order, a kill -9 of the runner is resumed, a failing job does not stop the queue, one
runner per data folder; and `train --data A --data B` builds the dataset a run request describes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time

import psutil
import pytest

from cardgrader.training import events
from cardgrader.training.job_queue import JobQueue
from cardgrader.training.lock import QueueRunnerLock
from tests.conftest import tree_digest
from tests.training.test_cli import CLI, cli

TINY = ("--preset", "quick-test", "--imgsz", "64", "--batch", "4")


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """Two folders of raw sample cards (photos + labels, not a built dataset)."""
    from cardgrader.data.sample import generate

    root = tmp_path_factory.mktemp("queue-sources")
    folders = []
    for seed, name in enumerate(("box one", "box two")):
        generate(root / name, count=8, seed=seed + 1, side="both", size=(160, 200))
        folders.append(root / name)
    return folders


def add(*args) -> str:
    result = cli("queue", "add", *TINY, *map(str, args), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["id"]


def listed() -> list[dict]:
    result = cli("queue", "list", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def run_events(home, run_id) -> list[dict]:
    return events.read(home / "runs" / run_id / "events.jsonl")


def test_jobs_are_listed_moved_and_removed_and_survive_a_new_process(sources):
    a, b, c = (add("--data", sources[0], "--epochs", "1", "--name", n) for n in ("front", "back", "corners"))
    assert [j["id"] for j in listed()] == [a, b, c]
    assert all(j["status"] == "queued" and j["sources"] == [str(sources[0])] for j in listed())
    moved = cli("queue", "move", c, "1")
    assert moved.returncode == 0, moved.stderr
    assert [j["id"] for j in listed()] == [c, a, b]
    assert [j["position"] for j in listed()] == [1, 2, 3]
    assert cli("queue", "remove", a[:5]).returncode == 0  # a unique prefix names the job
    assert [j["name"] for j in listed()] == ["corners", "back"]
    plain = cli("queue", "add", *TINY, "--data", sources[1], "--epochs", "1")
    assert plain.returncode == 0 and plain.stdout.strip() in {j["id"] for j in listed()}  # prints the job id

    for argv, code, needle in ((("queue", "move", c, "9"), 2, "POSITION must be between 1 and 3"),
                               (("queue", "remove", "nosuchjob"), 2, "No queued job 'nosuchjob'"),
                               (("queue", "add", *TINY, "--data", "/no/such/folder"), 1, "/no/such/folder does not exist"),
                               (("queue", "add", *TINY, "--data", sources[0], "--split", "0,1,0"), 2, "--split")):
        result = cli(*argv)
        assert result.returncode == code and needle in result.stderr, (argv, result.returncode, result.stderr)
        assert "Traceback" not in result.stderr


def test_three_jobs_run_in_order_and_a_failing_one_does_not_stop_the_queue(sources, home, tmp_path):
    doomed = tmp_path / "cards that go away"
    shutil.copytree(sources[1], doomed)
    before = {str(s): tree_digest(s) for s in sources}
    first = add("--data", sources[0], "--data", sources[1], "--epochs", "1", "--name", "first")
    broken = add("--data", doomed, "--epochs", "1", "--name", "broken")
    second = add("--data", sources[1], "--epochs", "2", "--name", "second")
    third = add("--data", sources[0], "--epochs", "1", "--name", "third", "--split", "0.5,0.5,0", "--seed", "4")
    shutil.rmtree(doomed)  # the grader deleted the folder after queueing it

    result = cli("queue", "run", "--json", timeout=600)
    assert result.returncode == 1, result.stderr  # one job failed
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    ended = [(e["job"], e["status"]) for e in lines if e["type"] == "job_ended"]
    assert ended == [(first, "finished"), (broken, "failed"), (second, "finished"), (third, "finished")]
    jobs = {j["id"]: j for j in listed()}
    assert "does not exist" in jobs[broken]["error"] and jobs[broken]["run"] is None
    runs = [jobs[j]["run"] for j in (first, second, third)]
    started = [run_events(home, r)[0]["time"] for r in runs]
    assert started == sorted(started)  # in queue order, one after another
    for run_id, epochs in zip(runs, (1, 2, 1)):
        assert [e["epoch"] for e in run_events(home, run_id) if e["type"] == "epoch"] == list(range(1, epochs + 1))
    assert {str(s): tree_digest(s) for s in sources} == before  # the grader's folders are only read
    assert cli("queue", "run").returncode == 0  # nothing left: exits at once


def test_a_kill_9_of_the_runner_is_resumed_to_its_planned_epochs_then_the_rest_run(sources, home):
    first = add("--data", sources[0], "--data", sources[1], "--epochs", "3", "--batch", "2", "--name", "long")
    others = [add("--data", sources[i], "--epochs", "1", "--name", f"after-{i}") for i in (0, 1)]
    runner = subprocess.Popen([*CLI, "queue", "run", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline:
        event = json.loads(runner.stdout.readline() or "{}")
        if event.get("type") == "epoch" and event["epoch"] == 1:
            break
    else:
        raise AssertionError("the first job never finished an epoch")
    children = psutil.Process(runner.pid).children(recursive=True)
    os.kill(runner.pid, signal.SIGKILL)
    runner.wait(timeout=10)
    psutil.wait_procs(children, timeout=10)

    interrupted = {j["id"]: j for j in listed()}
    assert interrupted[first]["status"] == "running" and interrupted[first]["run"]  # a dead runner's job
    assert [interrupted[j]["status"] for j in others] == ["queued", "queued"]
    assert "interrupted" in cli("queue", "list").stdout

    again = cli("queue", "run", "--json", timeout=600)
    assert again.returncode == 0, again.stderr
    jobs = {j["id"]: j for j in listed()}
    assert all(jobs[j]["status"] == "finished" for j in (first, *others))
    stream = run_events(home, jobs[first]["run"])
    assert [e["epoch"] for e in stream if e["type"] == "epoch"] == [1, 2, 3]  # resumed, not restarted
    assert [e["resumed_from_epoch"] for e in stream if e["type"] == "run_started"][-1] >= 1
    first_line = json.loads(again.stdout.splitlines()[0])
    assert first_line["type"] == "job_started" and first_line["job"] == first  # before anything else


def test_a_second_runner_is_refused_while_one_works_on_the_data_folder(sources):
    add("--data", sources[0], "--epochs", "1")
    lock = QueueRunnerLock()
    lock.acquire(who="a test standing in for the app")
    try:
        result = cli("queue", "run")
    finally:
        lock.release()
    assert result.returncode == 1
    assert "already being run by process" in result.stderr and "Traceback" not in result.stderr
    assert [j.status for j in JobQueue().jobs()] == ["queued"]


def test_pausing_the_queue_starts_nothing(sources):
    add("--data", sources[0], "--epochs", "1")
    assert cli("queue", "pause").returncode == 0
    assert cli("queue", "run").returncode == 0
    assert [j["status"] for j in listed()] == ["queued"]
    assert "paused" in cli("queue", "list").stdout
    assert cli("queue", "resume").returncode == 0 and not JobQueue().paused


def test_train_with_several_sources_builds_the_dataset_the_request_describes(sources, home):
    from cardgrader.data.build import import_dataset
    from cardgrader.training.presets import load_preset

    result = cli("train", *TINY, "--epochs", "1", "--data", sources[0], "--data", sources[1], "--split",
                 "0.5,0.5,0", "--seed", "9", "--json", timeout=300)
    assert result.returncode == 0, result.stderr
    run_id = json.loads(result.stdout.splitlines()[0])["run"]
    metadata = json.loads((home / "runs" / run_id / "model" / "metadata.json").read_text())
    config = load_preset("quick-test")
    expected = import_dataset([sources[0], sources[1]], arch=config.arch, task=config.task, border=config.border,
                              side=config.side, split_ratios="0.5,0.5,0", seed=9, classes=config.class_names)
    assert expected.reused  # the run built exactly this dataset: same sources, split, seed, classes
    assert metadata["dataset"]["fingerprint"] == expected.fingerprint
    images = sum(expected.images.values())
    assert expected.images["val"] == images // 2  # the split asked for, over both folders
    request = json.loads((home / "runs" / run_id / "request.json").read_text())
    assert request["sources"] == [str(sources[0]), str(sources[1])] and request["seed"] == 9

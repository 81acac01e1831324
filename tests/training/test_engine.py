"""Real Ultralytics training through the engine: weights, model package, a complete event stream."""

from __future__ import annotations

import json

import pytest

from cardgrader.training import events
from tests.conftest import tree_digest
from tests.training.conftest import terminal, tiny, wait_for


@pytest.mark.parametrize("arch", ["detect", "segment", "obb"])
def test_real_training_produces_weights_package_and_events(engine, card_dataset, arch):
    data = card_dataset(arch, count=10, size=96)
    before = tree_digest(data.parent)
    sub = engine.subscribe()
    run_id = engine.start(tiny(data, arch=arch, name=f"tiny-{arch}"))
    seen: list[dict] = []
    final = wait_for(sub, terminal, seen=seen)
    assert final["type"] == "finished", final
    assert engine.wait(run_id, 30) == "finished"

    folder = engine.store.folder(run_id)
    assert (folder / "weights" / "best.pt").stat().st_size > 100_000
    assert (folder / "weights" / "last.pt").is_file()
    meta = json.loads((folder / "model" / "metadata.json").read_text())
    assert (folder / "model" / meta["weights"]).is_file()
    assert meta["arch"] == arch and meta["classes"] == ["outer_border", "inner_border"] and meta["imgsz"] == 64
    assert meta["dataset"]["fingerprint"] and meta["dataset"]["counts"] == {"train": 8, "val": 2}
    assert set(meta["versions"]) >= {"cardgrader", "ultralytics", "torch"} and meta["versions"]["torch"].startswith("2.14.1")
    assert set(meta["metrics"]) >= set(events.METRIC_KEYS) and meta["timings"]["seconds"] > 0

    stream = events.read(folder / "events.jsonl")
    assert [e["type"] for e in seen if e["run"] == run_id] == [e["type"] for e in stream]  # subscribers saw the file
    assert stream[0]["type"] == "run_started" and stream[0]["epochs"] == 2 and stream[0]["resumed_from_epoch"] == 0
    assert stream[-1]["type"] == "finished" and stream[-1]["model"] == str(folder / "model")
    batches = [e for e in stream if e["type"] == "batch"]
    assert batches and all(1 <= b["batch"] <= b["batches"] and b["epoch"] in (1, 2) for b in batches)
    assert {"box_loss", "cls_loss"} <= set(batches[-1]["losses"])
    epochs = [e for e in stream if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    for e in epochs:
        assert set(e["metrics"]) >= set(events.METRIC_KEYS)
        assert e["train_losses"] and e["val_losses"] and e["lr"] > 0 and e["seconds"] > 0
    assert [e["epoch"] for e in stream if e["type"] == "checkpoint"] == [1, 2]
    if arch == "segment":
        assert "seg_loss" in epochs[0]["train_losses"] and "box_mAP50" in epochs[0]["metrics"]
    if arch == "obb":
        assert "angle_loss" in epochs[0]["train_losses"]
    assert all(e["run"] == run_id and isinstance(e["time"], float) for e in stream)

    [record] = engine.store.list()
    assert (record.status, record.epochs_done, record.name) == ("finished", 2, f"tiny-{arch}")
    after = tree_digest(data.parent)
    caches = {k for k in {**before, **after} if k.endswith(".cache")}
    assert caches <= {"labels/train.cache", "labels/val.cache"}  # Ultralytics' caches, in our own build
    unchanged = {k: v for k, v in before.items() if k not in caches}
    assert {k: v for k, v in after.items() if k not in caches} == unchanged  # nothing else was touched


def test_cancel_mid_epoch_stops_within_the_epoch_and_the_run_resumes_to_the_end(engine, card_dataset):
    """How fast a stop is, is bench/cancel_latency.py's to measure; here: it stops inside the epoch."""
    data = card_dataset("detect", count=40, size=96)
    sub = engine.subscribe()
    run_id = engine.start(tiny(data, epochs=3, batch=2))
    wait_for(sub, lambda e: e["type"] == "batch" and e["epoch"] == 2 and e["batch"] >= 3)
    engine.cancel(run_id)
    seen: list[dict] = []
    final = wait_for(sub, terminal, timeout=30, seen=seen)
    assert final["type"] == "cancelled" and final["epoch"] == 1
    assert not [e for e in seen if e["type"] == "epoch"]  # epoch 2 never completed: it stopped mid-epoch
    assert engine.wait(run_id, 10) == "cancelled"
    assert (engine.store.folder(run_id) / "weights" / "last.pt").is_file()

    (engine.store.folder(run_id) / "cancel.request").write_text("left by an earlier `runs cancel`")
    assert engine.resume(run_id) == run_id  # an old request must not stop the new attempt
    resumed = wait_for(sub, lambda e: e["type"] == "run_started")
    assert resumed["resumed_from_epoch"] == 1
    final = wait_for(sub, terminal)
    assert final["type"] == "finished" and final["epoch"] == 3
    stream = engine.store.events(run_id)
    assert [e["epoch"] for e in stream if e["type"] == "epoch"] == [1, 2, 3]  # continues, never restarts
    assert [e["type"] for e in stream].count("run_started") == 2
    assert engine.store.get(run_id).epochs_done == 3


def test_a_second_start_is_refused_naming_the_run_that_trains(engine, card_dataset):
    from cardgrader.errors import BusyError
    from cardgrader.training.engine import Engine

    data = card_dataset("detect", count=10, size=96)
    sub = engine.subscribe()
    first = engine.start(tiny(data, epochs=1, name="first-run"))
    other = Engine()  # as if a second app window or the CLI tried at the same time
    try:
        with pytest.raises(BusyError, match=f"'first-run' \\({first}\\)"):
            other.start(tiny(data, epochs=1))
    finally:
        other.shutdown()
    with pytest.raises(BusyError, match="first-run"):
        engine.start(tiny(data, epochs=1))
    assert wait_for(sub, terminal)["type"] == "finished"
    assert len(engine.store.list()) == 1


def test_a_stale_lock_from_a_dead_process_is_recovered(engine, card_dataset, home):
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (home / "training.lock").write_text(json.dumps({"pid": dead.pid, "run": "old-run", "name": "crashed"}))
    sub = engine.subscribe()
    run_id = engine.start(tiny(card_dataset("detect", count=10, size=96), epochs=1))
    assert json.loads((home / "training.lock").read_text())["run"] == run_id
    assert wait_for(sub, terminal)["type"] == "finished"


def test_a_crash_in_the_child_fails_the_run_and_the_engine_lives_on(engine, card_dataset, tmp_path):
    import torch

    bad = tmp_path / "broken weights.pt"
    torch.save({"epoch": 3}, bad)  # a plain checkpoint (it passes the safety check) that holds no model
    data = card_dataset("detect", count=10, size=96)
    sub = engine.subscribe()
    run_id = engine.start(tiny(data, weights=str(bad)))
    final = wait_for(sub, terminal)
    assert final["type"] == "failed"
    assert str(bad) in final["error"] and "Traceback" not in final["error"]
    assert engine.store.get(run_id).status == "failed"
    assert "Traceback" in (engine.store.folder(run_id) / "log.txt").read_text()  # the details are in the log

    second = engine.start(tiny(data, epochs=1))
    assert wait_for(sub, terminal)["type"] == "finished"
    assert engine.store.get(second).status == "finished"


def test_a_child_killed_by_the_system_is_reported_and_resumable(engine, card_dataset):
    import os
    import signal

    data = card_dataset("detect", count=40, size=96)
    sub = engine.subscribe()
    run_id = engine.start(tiny(data, epochs=3, batch=2))
    wait_for(sub, lambda e: e["type"] == "batch" and e["epoch"] == 2)
    os.kill(engine._runs[run_id].process.pid, signal.SIGKILL)  # what the OOM killer does
    final = wait_for(sub, terminal, timeout=15)
    assert final["type"] == "failed" and "SIGKILL" in final["error"] and "resumed" in final["error"]
    assert engine.store.get(run_id).status == "failed"
    engine.resume(run_id)
    assert wait_for(sub, terminal)["type"] == "finished"
    assert [e["epoch"] for e in events.epoch_history(engine.store.events(run_id))] == [1, 2, 3]


def test_offline_training_never_touches_the_network(engine, card_dataset, tmp_path, monkeypatch):
    audit = tmp_path / "network.log"
    monkeypatch.setenv("CARDGRADER_NETWORK_AUDIT", str(audit))
    data = card_dataset("segment", count=10, size=96)
    sub = engine.subscribe()
    first = engine.start(tiny(data, arch="segment", epochs=1, plots=True))
    assert wait_for(sub, terminal)["type"] == "finished"
    local_weights = engine.store.folder(first) / "model" / "best.pt"
    engine.start(tiny(data, arch="segment", epochs=1, weights=str(local_weights)))
    assert wait_for(sub, terminal)["type"] == "finished"

    # The audit hook really records: a lookup made in a child with the same set-up is caught.
    import subprocess
    import sys

    probe = ("from cardgrader.yolo_runtime import install_network_audit; install_network_audit(); "
             "import socket\ntry: socket.getaddrinfo('example.invalid', 80)\nexcept OSError: pass")
    subprocess.run([sys.executable, "-c", probe], check=True, env={**__import__("os").environ, "CARDGRADER_NETWORK_AUDIT": str(tmp_path / "probe.log")})
    assert "socket.getaddrinfo" in (tmp_path / "probe.log").read_text()
    assert not audit.exists(), audit.read_text()


def test_official_weights_offline_fail_fast_with_a_way_forward(engine, card_dataset, home):
    from cardgrader.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        engine.start(tiny(card_dataset("detect", count=10, size=96), weights="yolo11n.pt"))
    message = str(err.value)
    assert "yolo11n.pt" in message and "github.com/ultralytics/assets/releases" in message
    assert str(home / "weights") in message
    assert engine.store.list() == []  # nothing was started


def test_data_errors_are_sentences_and_create_no_run(engine, card_dataset, tmp_path):
    from cardgrader.errors import DataError

    data = card_dataset("detect", count=10, size=96)
    (tmp_path / "no photos" / "images" / "train").mkdir(parents=True)
    cases = [
        (tiny(tmp_path / "missing"), "does not exist"),
        (tiny(data, border="outer"), "was built for detect with classes outer_border, inner_border, but this run "
                                     "trains detect with classes outer_border"),
        (tiny(data, arch="obb"), "was built for detect"),
        (tiny(tmp_path / "no photos"), "no photos"),
    ]
    for config, needle in cases:
        with pytest.raises(DataError, match=needle):
            engine.start(config)
    assert engine.store.list() == []


def test_any_labelled_folder_trains_imported_for_the_run(engine, tmp_path):
    """A grader's own folder (here flat YOLO polygons with eight card classes) is imported for the run:
    only the outer border is kept for border type `outer`, and the folder itself is never written to."""
    from cardgrader.data.sample import generate
    from tests.conftest import tree_digest

    source = tmp_path / "my cards"
    generate(source, count=10, seed=4, size=(160, 208))
    before = tree_digest(source)
    sub = engine.subscribe()
    run_id = engine.start(tiny(source, border="outer", arch="obb", epochs=1))
    seen: list[dict] = []
    final = wait_for(sub, terminal, seen=seen)
    assert final["type"] == "finished", final
    meta = json.loads((engine.store.folder(run_id) / "model" / "metadata.json").read_text())
    assert meta["classes"] == ["outer_border"] and meta["arch"] == "obb"
    assert sum(meta["dataset"]["counts"].values()) == 5  # the run trains fronts: the five backs stay out
    assert meta["dataset"]["origin"] == str(source)
    assert any("Dataset ready" in e.get("message", "") for e in seen if e["type"] == "log")
    assert tree_digest(source) == before


def test_a_resumed_run_stopped_at_once_still_counts_its_epochs(engine, card_dataset):
    data = card_dataset("detect", count=40, size=96)
    sub = engine.subscribe()
    run_id = engine.start(tiny(data, epochs=3, batch=2))
    wait_for(sub, lambda e: e["type"] == "checkpoint" and e["epoch"] == 1)
    engine.cancel(run_id)
    assert wait_for(sub, terminal, timeout=15)["type"] == "cancelled"
    engine.resume(run_id)
    engine.cancel(run_id)  # before the child has even loaded the checkpoint
    final = wait_for(sub, terminal, timeout=30)
    assert final["type"] == "cancelled" and final["epoch"] == 1


def test_training_survives_an_unwritable_event_file(engine, card_dataset):
    """A file it cannot write (here events.jsonl replaced by a folder) is logged, not fatal: the run ends,
    the index says how, and subscribers hear the end."""
    sub = engine.subscribe()
    run_id = engine.start(tiny(card_dataset("detect", count=10, size=96), epochs=1))
    wait_for(sub, lambda e: e["type"] == "run_started")
    path = engine.store.events_path(run_id)
    path.unlink()
    path.mkdir()
    final = wait_for(sub, terminal)
    assert final["type"] == "finished"
    assert engine.store.get(run_id).status == "finished"

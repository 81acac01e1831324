"""The run store: folders are the truth, the SQLite index is rebuilt from them, dead runs read as interrupted."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from cardgrader.errors import BusyError, ConfigError
from cardgrader.training import events
from cardgrader.training.config import TrainingConfig
from cardgrader.training.store import RunStore


def _finished_run(store: RunStore, name: str, best: float) -> str:
    record = store.create(TrainingConfig(name=name, epochs=2, task="corners", arch="obb"))
    history = [
        events.make(events.RUN_STARTED, record.id, config={}, epochs=2, resumed_from_epoch=0),
        events.make(events.EPOCH, record.id, epoch=1, epochs=2, metrics={"mAP50_95": best / 2, "mAP50": best}),
        events.make(events.EPOCH, record.id, epoch=2, epochs=2, metrics={"mAP50_95": best, "mAP50": best}),
        events.make(events.FINISHED, record.id, metrics={"mAP50_95": best}, best=None, epoch=2),
    ]
    events.append(store.events_path(record.id), history)
    for event in history:
        store.record_event(record.id, event)
    return record.id


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_index_lists_runs_with_their_figures():
    store = RunStore()
    run_id = _finished_run(store, "corners-a", 0.4)
    [record] = store.list()
    assert (record.id, record.name, record.status, record.task, record.arch) == (run_id, "corners-a", "finished", "corners", "obb")
    assert (record.epochs, record.epochs_done, record.best_mAP50_95) == (2, 2, 0.4)


def test_index_is_rebuilt_from_folders_when_lost_or_damaged():
    store = RunStore()
    done = _finished_run(store, "kept", 0.3)
    dead = store.create(TrainingConfig(name="was-running", epochs=5))
    events.append(store.events_path(dead.id), [events.make(events.RUN_STARTED, dead.id, config={}, epochs=5, resumed_from_epoch=0)])
    store.index.unlink()
    rebuilt = {r.id: r for r in RunStore().list()}
    assert rebuilt[done].status == "finished" and rebuilt[done].best_mAP50_95 == 0.3 and rebuilt[done].name == "kept"
    assert rebuilt[dead.id].status == "interrupted"

    store.index.write_bytes(b"this is not a database")
    assert {r.id for r in RunStore().list()} == {done, dead.id}


def test_a_run_left_running_by_a_dead_process_is_interrupted():
    store = RunStore()
    record = store.create(TrainingConfig(name="orphan"))
    assert store.get(record.id).status == "running"  # this test process owns it and is alive
    last = events.make(events.EPOCH, record.id, epoch=1, epochs=50, metrics={})
    events.append(store.events_path(record.id), [last])
    store._update(record.id, pid=_dead_pid(), pid_started=None)
    interrupted = store.get(record.id)
    assert interrupted.status == "interrupted"
    assert interrupted.ended == last["time"]  # its duration stops at its last sign of life
    assert store.list()[0].status == "interrupted" and store.list()[0].duration == interrupted.duration


def test_names_stay_unique_with_suggestions():
    store = RunStore()
    a = _finished_run(store, "border-front", 0.1)
    b = store.create(TrainingConfig(name="border-front"))
    assert b.name == "border-front-2"
    with pytest.raises(ConfigError, match="try 'border-front-3'"):
        store.rename(b.id, "border-front")
    assert store.rename(a, "final model").name == "final model"
    assert store.config(a).name == "final model"  # the folder keeps the new name for rebuilds


def test_resolve_by_id_prefix_or_name_and_delete():
    store = RunStore()
    run_id = _finished_run(store, "to-delete", 0.2)
    assert store.resolve(run_id[:17]).id == run_id
    assert store.resolve("to-delete").id == run_id
    with pytest.raises(ConfigError, match="No run matches"):
        store.resolve("nothing-like-it")
    running = store.create(TrainingConfig(name="busy"))
    with pytest.raises(BusyError, match="cancel it before deleting"):
        store.delete(running.id)
    store.delete(run_id)
    assert not store.folder(run_id).exists()
    assert [r.id for r in store.list()] == [running.id]


def test_event_reader_skips_a_half_written_last_line(tmp_path):
    path = tmp_path / "events.jsonl"
    events.append(path, [events.make(events.EPOCH, "r", epoch=1, epochs=3, metrics={})])
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"type": "epoch", "run": "r", "epo')
    assert [e["epoch"] for e in events.read(path)] == [1]


def test_epoch_history_keeps_one_entry_per_epoch():
    stream = [events.make(events.EPOCH, "r", epoch=e, epochs=3, metrics={"mAP50_95": v}) for e, v in [(1, .1), (2, .2), (2, .25), (3, .3)]]
    assert [(e["epoch"], e["metrics"]["mAP50_95"]) for e in events.epoch_history(stream)] == [(1, .1), (2, .25), (3, .3)]
    assert json.loads(events.dumps(stream[0]))["type"] == "epoch"


def test_non_finite_numbers_from_the_trainer_become_gaps_not_crashes():
    from cardgrader.training.progress import fmt

    losses = events.float_items({"train/box_loss": float("nan"), "train/cls_loss": float("inf"), "train/dfl_loss": 1.25}, "train/")
    assert losses == {"box_loss": None, "cls_loss": None, "dfl_loss": 1.25}
    metrics = events.metrics_from_ultralytics({"metrics/mAP50(B)": float("nan"), "metrics/precision(B)": 0.5}, "detect")
    assert metrics == {"mAP50": None, "precision": 0.5}
    assert json.loads(events.dumps(events.make(events.EPOCH, "r", epoch=1, epochs=2, metrics=metrics)))["metrics"]["mAP50"] is None
    assert fmt(None) == "-" and fmt(0.51234) == "0.512"
    store = RunStore()
    record = store.create(TrainingConfig(name="nan run"))
    store.record_event(record.id, events.make(events.EPOCH, record.id, epoch=1, epochs=2, metrics=metrics))
    assert store.get(record.id).best_mAP50_95 is None and store.get(record.id).epochs_done == 1


def test_duration_counts_training_sessions_not_the_time_a_run_lay_stopped(home):
    store = RunStore()
    record = store.create(TrainingConfig(epochs=3, imgsz=64))
    store.record_event(record.id, {"type": events.CANCELLED, "time": record.started + 10})  # 10 s, then stopped
    assert store.get(record.id).duration == pytest.approx(10, abs=0.01)
    store.mark_running(record.id)  # resumed, hours later in real life
    again = time.time()
    store.record_event(record.id, {"type": events.FINISHED, "time": again + 5})
    assert store.get(record.id).duration == pytest.approx(15, abs=0.5)  # not the wall time since the start


def test_the_trained_time_comes_back_from_the_events_when_the_index_is_rebuilt():
    from cardgrader.training.store import training_time

    history = [{"type": events.RUN_STARTED, "time": 0}, {"type": events.EPOCH, "time": 5},
               {"type": events.CANCELLED, "time": 10}, {"type": events.RUN_STARTED, "time": 100},
               {"type": events.EPOCH, "time": 103},  # killed: no terminal event, its last sign of life counts
               {"type": events.RUN_STARTED, "time": 200}, {"type": events.FINISHED, "time": 204}]
    assert training_time(history) == (17.0, None)
    assert training_time(history[:5]) == (10.0, 100)


def test_an_index_from_before_sessions_were_counted_gains_the_columns(home):
    import sqlite3

    runs = home / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(runs / "index.sqlite") as conn:
        conn.execute("CREATE TABLE runs (id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, task TEXT, "
                     "arch TEXT, side TEXT, border TEXT, model TEXT, epochs INTEGER, epochs_done INTEGER DEFAULT 0, "
                     "best_mAP50_95 REAL, best_mAP50 REAL, started REAL, ended REAL, pid INTEGER, pid_started REAL)")
        conn.execute("INSERT INTO runs (id, name, status, started, ended) VALUES ('old', 'old run', 'finished', 100, 160)")
    store = RunStore(runs)
    assert store.get("old").duration == 60  # the old rule, for a row that has no sessions
    record = store.create(TrainingConfig(epochs=1, imgsz=64))
    assert store.get(record.id).trained == 0.0

"""The expected duration of a planned run, from run folders as the engine leaves them (config.yaml,
events.jsonl, model/metadata.json written by the real package writer) in the test's CARDGRADER_HOME."""

from __future__ import annotations

import pytest

from cardgrader.training import estimate as est
from cardgrader.training import events
from cardgrader.training.config import TrainingConfig
from cardgrader.training.package import write_package
from cardgrader.training.store import RunStore

FIRST_MODEL = TrainingConfig(arch="detect", task="border", side="both", border="dual", epochs=60, imgsz=160,
                             batch=16, augment="medium")
CPU_BANNER = "Ultralytics 8.4.190 \U0001f680 Python-3.11.7 torch-2.14.1+cu130 CPU (AMD EPYC)"
GPU_BANNER = "Ultralytics 8.4.190 \U0001f680 Python-3.11.7 torch-2.14.1+cu130 CUDA:0 (NVIDIA H200, 143771MiB)"


def make_run(config: TrainingConfig, epoch_seconds: list[float], train: int, val: int, *, banner=CPU_BANNER,
             before=6.0, after=2.0, status=events.FINISHED, resumed=False, package=True, start=1_800_000_000.0):
    """A run folder and index row the way the engine leaves them: `before` seconds from run_started to
    the first batch, the epochs, `after` seconds of final validation and packaging."""
    store = RunStore()
    record = store.create(config)
    folder = store.folder(record.id)
    now = start
    history = [{"type": events.RUN_STARTED, "run": record.id, "time": now, "config": config.to_dict(),
                "epochs": config.epochs, "resumed_from_epoch": 0}]
    history.append({"type": events.LOG, "run": record.id, "time": now + 1.0, "level": "info", "message": banner})
    now += before
    for number, seconds in enumerate(epoch_seconds, start=1):
        history.append({"type": events.BATCH, "run": record.id, "time": now + seconds / 2, "epoch": number,
                        "epochs": config.epochs, "batch": 1, "batches": 2, "losses": {"box_loss": 1.0}})
        now += seconds
        history.append({"type": events.EPOCH, "run": record.id, "time": now, "epoch": number,
                        "epochs": config.epochs, "train_losses": {"box_loss": 1.0}, "val_losses": {},
                        "metrics": {"precision": 0.9, "recall": 0.9, "mAP50": 0.9, "mAP50_95": 0.5},
                        "lr": 0.01, "seconds": seconds})
        if resumed and number == len(epoch_seconds) // 2:  # stopped, then resumed an hour later
            history.append({"type": events.CANCELLED, "run": record.id, "time": now, "metrics": {}, "epoch": number})
            now += 3600
            history.append({"type": events.RUN_STARTED, "run": record.id, "time": now, "config": config.to_dict(),
                            "epochs": config.epochs, "resumed_from_epoch": number})
    now += after
    final = {"type": status, "run": record.id, "time": now, "metrics": {"mAP50": 0.9}, "epoch": len(epoch_seconds)}
    history.append(final)
    events.append(folder / "events.jsonl", history)
    if package and status == events.FINISHED:
        (folder / "weights" / "best.pt").write_bytes(b"weights")
        write_package(folder, record.id, config, {"fingerprint": "x", "counts": {"train": train, "val": val}},
                      history, final)
    store.record_event(record.id, final)
    return record.id


def planned(config=FIRST_MODEL, train=64, val=16, devices=("auto", "cpu")):
    return est.estimate(config, train, val, est.history(), devices)


def test_without_finished_runs_the_figure_is_rough_and_says_so():
    make_run(FIRST_MODEL, [2.0] * 10, 64, 16, status=events.CANCELLED)  # a cancelled run is no basis
    figure = planned()
    assert figure.basis == "rough" and figure.device == "cpu" and figure.runs == 0
    assert figure.text().startswith("Expected: roughly ")
    assert figure.text().endswith(" min on this computer (a rough figure: no run has finished on the CPU here yet)")
    assert 30 < figure.seconds < 15 * 60  # the first-model preset on 80 cards is minutes on a CPU, not hours
    gpu = planned(devices=("auto", "cpu", "cuda:0"))
    assert gpu.device == "cuda" and gpu.seconds < figure.seconds / 3


def test_a_finished_run_predicts_the_same_run_again():
    make_run(FIRST_MODEL, [2.2, 1.9, 2.0, 2.1] * 15, 64, 16, before=6.0, after=2.0)
    figure = planned()
    expected = 6.0 + 2.0 + 60 * 2.05  # the fixed part of the run, then 60 median epochs
    assert figure.basis == "history" and figure.runs == 1
    assert figure.seconds == pytest.approx(expected, rel=0.01)
    assert figure.text() == "Expected: about 2 min on this computer (from your last run on the CPU)"


def test_the_figure_scales_with_epochs_images_pixels_and_model():
    make_run(FIRST_MODEL, [2.0] * 60, 64, 16, before=6.0, after=2.0)
    base = planned().seconds
    fixed = 8.0
    assert planned(FIRST_MODEL.updated(epochs=120)).seconds - fixed == pytest.approx(2 * (base - fixed), rel=0.01)
    assert planned(train=128, val=32).seconds - fixed == pytest.approx(2 * (base - fixed), rel=0.01)
    bigger = planned(FIRST_MODEL.updated(imgsz=640)).seconds
    ratio = est.work_per_image("detect", "yolo11", "n", 640) / est.work_per_image("detect", "yolo11", "n", 160)
    assert bigger - fixed == pytest.approx(ratio * (base - fixed), rel=0.01) and ratio > 8
    assert planned(FIRST_MODEL.updated(size="s")).seconds > 2 * base


def test_runs_on_another_kind_of_device_are_not_a_basis():
    make_run(FIRST_MODEL, [0.1] * 60, 64, 16, banner=GPU_BANNER)
    on_cpu = planned(FIRST_MODEL.updated(device="cpu"))
    assert on_cpu.basis == "rough" and on_cpu.device == "cpu"
    on_gpu = planned(FIRST_MODEL.updated(device="cuda:0"))
    assert on_gpu.basis == "history" and on_gpu.device == "cuda"
    assert on_gpu.seconds == pytest.approx(8.0 + 60 * 0.1, rel=0.01)


def test_runs_with_the_same_model_and_image_size_come_first():
    make_run(FIRST_MODEL.updated(imgsz=640, size="s", epochs=3), [60.0] * 3, 64, 16)  # 30x the rate: a slow day
    make_run(FIRST_MODEL, [2.0] * 60, 64, 16)
    figure = planned()
    assert figure.runs == 1 and figure.seconds == pytest.approx(8.0 + 60 * 2.0, rel=0.01)
    other = planned(FIRST_MODEL.updated(imgsz=320))  # no run at 320 px: both runs, median of their rates
    assert other.runs == 2


def test_a_resumed_run_gives_its_epochs_but_not_its_wall_clock():
    run = make_run(FIRST_MODEL, [2.0] * 60, 64, 16, resumed=True)
    timing = est.run_timing(RunStore().folder(run))
    assert timing.epoch_seconds == 2.0 and timing.run_seconds is None  # the hour in between is no overhead
    figure = planned()
    assert figure.basis == "history"
    assert figure.seconds == pytest.approx(est.ROUGH_RUN_SECONDS["cpu"] + 60 * 2.0, rel=0.01)


def test_a_run_without_a_package_is_counted_from_its_dataset(home):
    run = make_run(FIRST_MODEL, [2.0] * 60, 64, 16, package=False)
    folder = RunStore().folder(run)
    data = home / "datasets" / "cards"
    for split, count in (("train", 64), ("val", 16)):
        (data / "images" / split).mkdir(parents=True)
        for index in range(count):
            (data / "images" / split / f"card_{index}.jpg").write_bytes(b"jpeg")
    (folder / "dataset.yaml").write_text(f"path: {data}\ntrain: images/train\nval: images/val\n", encoding="utf-8")
    timing = est.run_timing(folder)
    assert (timing.train_images, timing.val_images, timing.device) == (64, 16, "cpu")


def test_damaged_run_folders_are_skipped_and_the_cache_spares_rereading():
    good = make_run(FIRST_MODEL, [2.0] * 60, 64, 16)
    bad = make_run(FIRST_MODEL, [2.0] * 60, 64, 16)
    (RunStore().folder(bad) / "config.yaml").write_text("arch: [not, a, choice]\n", encoding="utf-8")
    cache: dict = {}
    timings = est.history(cache=cache)
    assert [t.run for t in timings] == [good] and cache[bad] is None
    (RunStore().folder(good) / "events.jsonl").unlink()  # a cached run is not read again
    assert [t.run for t in est.history(cache=cache)] == [good]
    assert est.history() == []  # without the cache it is read, and tells nothing now


@pytest.mark.parametrize("device, available, kind", [
    ("auto", ("auto", "cpu"), "cpu"), ("auto", ("auto", "cpu", "cuda:0"), "cuda"), ("auto", ("auto", "cpu", "mps"), "mps"),
    ("cpu", ("auto", "cpu", "cuda:0"), "cpu"), ("cuda:1", (), "cuda"), ("0,1", (), "cuda"), ("mps", (), "mps"),
])
def test_device_kind(device, available, kind):
    assert est.device_kind(device, available) == kind


@pytest.mark.parametrize("seconds, words", [(4, "10 s"), (44, "40 s"), (137, "2 min"), (59 * 60, "59 min"),
                                            (80 * 60, "1 h 20 min"), (2 * 3600 + 100, "2 h")])
def test_duration_words(seconds, words):
    assert est.duration_words(seconds) == words

"""The training child process: runs Ultralytics and reports through plain dicts on a pipe.

Started by the engine with the multiprocessing 'spawn' context, so the GUI process never holds the GIL
for training, Stop can always end it, and a crash here never takes the app down. Everything sent back
is an event dict (see `events`) or one internal `resume_point` message.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from cardgrader.errors import Cancelled, ResourceError, UserError
from cardgrader.training import events
from cardgrader.training.safe_weights import check_weights_file
from cardgrader.yolo_runtime import configure_environment, install_network_audit, patch_ultralytics_offline

RESUME_POINT = "resume_point"  # internal: the epoch Ultralytics actually resumes from
BATCH_EVENT_INTERVAL = 0.1  # seconds; the last batch of an epoch is always sent
SAFE_CHECKPOINT = "last.safe.pt"  # a copy of last.pt taken after each complete save


class _Sender:
    """Thread-safe pipe writer; once the parent is gone, sending is a no-op."""

    def __init__(self, conn, run: str):
        self.conn, self.run, self.lock, self.alive = conn, run, threading.Lock(), True

    def event(self, type_: str, **fields: Any) -> None:
        self.raw(events.make(type_, self.run, **fields))

    def raw(self, message: dict) -> None:
        with self.lock:
            if not self.alive:
                return
            try:
                self.conn.send(message)
            except (BrokenPipeError, EOFError, OSError):
                self.alive = False


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


TABLE_HEADER = re.compile(r"^Epoch\s+GPU_mem\s+\w+_loss")  # the header of Ultralytics' console progress bars
VAL_ROW = re.compile(r"^(?P<name>\S+)\s+(?P<images>\d+)\s+(?P<labels>\d+)(?P<values>(?:\s+[-+\d.eE]+)+)$")
VAL_NAMES = ("P", "R", "mAP50", "mAP50-95")


def readable_log_line(message: str) -> str | None:
    """An Ultralytics log line as the Train panel's log should show it, or None to leave it out.

    The console's table header is left out (the progress bars it heads never reach the log), and a
    validation row (`all  10  20  0.5  0.4  0.3  0.2`), which would stand under that training-loss
    header, is written out with its own names."""
    if TABLE_HEADER.match(message):
        return None
    row = VAL_ROW.match(message)
    if row is None:
        return message
    values = row["values"].split()
    if len(values) % len(VAL_NAMES):
        return message
    groups = [values[i:i + len(VAL_NAMES)] for i in range(0, len(values), len(VAL_NAMES))]
    kinds = ["box", "mask"] if len(groups) == 2 else [""] * len(groups)
    figures = "; ".join((f"{kind} " if kind else "") + " ".join(f"{n} {v}" for n, v in zip(VAL_NAMES, group))
                        for kind, group in zip(kinds, groups))
    who = "all classes" if row["name"] == "all" else row["name"]
    return f"Validation, {who}: {row['images']} images, {row['labels']} labels · {figures}"


class _LogForwarder:
    """A logging handler that sends Ultralytics' log records as `log` events."""

    LEVELS = {"DEBUG": "debug", "INFO": "info", "WARNING": "warning", "ERROR": "error", "CRITICAL": "error"}

    def __init__(self, send: _Sender):
        import logging

        class Handler(logging.Handler):
            def emit(handler_self, record: logging.LogRecord) -> None:  # noqa: N805
                try:
                    message = ANSI_ESCAPE.sub("", record.getMessage())
                    message = "".join(ch for ch in message if ord(ch) < 0x10000 and ch != "\ufe0f").strip()
                except Exception:  # noqa: BLE001
                    return
                message = readable_log_line(message) if message else None
                if message:
                    send.event(events.LOG, level=self.LEVELS.get(record.levelname, "info"), message=message[:2000])

        self.handler = Handler(level=logging.INFO)

    def attach(self) -> None:
        import logging

        logging.getLogger("ultralytics").addHandler(self.handler)


def _watch_parent() -> None:
    """Exit when the parent dies (even by kill -9), so no orphan keeps training."""
    import multiprocessing
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def run() -> None:
        wait([parent.sentinel])
        os._exit(3)

    threading.Thread(target=run, name="parent-watchdog", daemon=True).start()


def _lower_priority() -> None:
    """Training yields the CPU to the app's window (it still gets every idle cycle)."""
    try:
        import psutil

        process = psutil.Process()
        process.nice(psutil.BELOW_NORMAL_PRIORITY_CLASS if os.name == "nt" else 10)
    except Exception:  # noqa: BLE001 - a priority we cannot set is not worth failing a run for
        pass


def _redirect_output(log_path: Path) -> None:
    """Ultralytics' console output (and any traceback) goes to the run's log.txt."""
    handle = open(log_path, "a", buffering=1, encoding="utf-8", errors="replace")
    try:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
    except OSError:  # windowed frozen builds may have no descriptors 1 and 2
        pass
    sys.stdout = sys.stderr = handle


class _Reporter:
    """Ultralytics callbacks → events. Registered on the YOLO model before `train()`."""

    def __init__(self, send: _Sender, cancel_event, arch: str):
        self.send, self.cancel_event, self.arch = send, cancel_event, arch
        self.batch = 0
        self.last_batch_sent = 0.0
        self.pending_epoch: int | None = None
        self.epoch_started = time.time()
        self.final_metrics: dict[str, float] = {}
        self.epochs_done = 0

    def callbacks(self) -> dict:
        return {
            "on_pretrain_routine_end": self.on_pretrain_routine_end,
            "on_train_epoch_start": self.on_train_epoch_start,
            "on_train_batch_start": self.check_cancel,
            "on_train_batch_end": self.on_train_batch_end,
            "on_train_epoch_end": self.on_train_epoch_end,
            "on_val_batch_end": self.check_cancel,
            "on_model_save": self.on_model_save,
            "on_fit_epoch_end": self.on_fit_epoch_end,
        }

    def check_cancel(self, _owner=None) -> None:
        if self.cancel_event.is_set():
            raise Cancelled("Stopped at your request.")  # from a callback: the engine asked the run to stop

    def on_pretrain_routine_end(self, trainer) -> None:
        self.epochs_done = int(trainer.start_epoch)
        self.send.raw({"type": RESUME_POINT, "start_epoch": int(trainer.start_epoch), "epochs": int(trainer.epochs)})
        self.check_cancel()

    def on_train_epoch_start(self, trainer) -> None:
        self.batch = 0
        self.epoch_started = time.time()
        self.check_cancel()

    def on_train_batch_end(self, trainer) -> None:
        self.batch += 1
        batches = len(trainer.train_loader)
        now = time.time()
        if trainer.tloss is not None and (self.batch >= batches or now - self.last_batch_sent >= BATCH_EVENT_INTERVAL):
            self.last_batch_sent = now
            losses = events.float_items(trainer.label_loss_items(trainer.tloss, prefix="train"), "train/")
            self.send.event(events.BATCH, epoch=trainer.epoch + 1, epochs=trainer.epochs,
                            batch=self.batch, batches=batches, losses=losses)
        self.check_cancel()

    def on_train_epoch_end(self, trainer) -> None:
        self.pending_epoch = trainer.epoch
        self.check_cancel()

    def on_model_save(self, trainer) -> None:
        last = Path(trainer.last)
        safe = last.with_name(SAFE_CHECKPOINT)
        tmp = safe.with_suffix(".tmp")
        shutil.copyfile(last, tmp)
        os.replace(tmp, safe)  # a kill while Ultralytics rewrites last.pt still leaves a whole checkpoint
        self.send.event(events.CHECKPOINT, epoch=trainer.epoch + 1, path=str(last))

    def on_fit_epoch_end(self, trainer) -> None:
        metrics = dict(trainer.metrics or {})
        if self.pending_epoch != trainer.epoch:  # Ultralytics' final validation of best.pt
            self.final_metrics = events.metrics_from_ultralytics(metrics, self.arch)
            return
        self.pending_epoch = None
        self.epochs_done = trainer.epoch + 1
        tloss = trainer.label_loss_items(trainer.tloss, prefix="train") if trainer.tloss is not None else {}
        lr = trainer.lr if isinstance(getattr(trainer, "lr", None), dict) else {}
        self.send.event(
            events.EPOCH,
            epoch=trainer.epoch + 1,
            epochs=trainer.epochs,
            train_losses=events.float_items(tloss, "train/"),
            val_losses=events.float_items(metrics, "val/"),
            metrics=events.metrics_from_ultralytics(metrics, self.arch),
            lr=round(float(next(iter(lr.values()), 0.0)), 8),
            seconds=round(time.time() - self.epoch_started, 3),
        )


def describe_failure(exc: BaseException, job: dict) -> str:
    """One or two readable sentences for an exception raised while training."""
    text = " ".join(str(exc).split())
    text = re.sub(r"[^\x00-\u2000\u2100-\u218f\u2190-\u21ff]+", "", text).strip()  # drop emoji decorations
    lowered = text.lower()
    if isinstance(exc, MemoryError) or "out of memory" in lowered:
        return (f"Training ran out of memory at batch {job['args'].get('batch')} and image size "
                f"{job['args'].get('imgsz')}; lower the batch size or the image size and start again.")
    weights = job.get("weights_file")
    if weights and any(s in lowered for s in ("pytorchstreamreader", "invalid load key", "unpickling", "zip archive",
                                                "failed finding central directory", "not a valid", "magic number")):
        return f"The weights file {weights} is not a usable PyTorch checkpoint ({text[:160]}). Choose another .pt file or train from scratch."
    if "dataset" in lowered and ("error" in lowered or "not found" in lowered):
        return f"Ultralytics could not use the dataset {job['args'].get('data')}: {text[:300]}"
    if "no labels found" in lowered or "no valid images" in lowered:
        return f"The dataset {job['args'].get('data')} has no usable labelled images: {text[:300]}"
    name = type(exc).__name__
    return f"Training stopped with an error ({name}): {text[:400] or 'no message'}."


def _gpu_check(job: dict, send: _Sender) -> None:
    """Refuse a CUDA run that cannot fit, warn when it is tight; figures in the message."""
    import torch

    device = job["args"].get("device")
    if not torch.cuda.is_available():
        return
    if device in (None, "", "cpu", "mps"):
        if device is not None:
            return
        indices = [0]
    else:
        indices = [int(d) for d in str(device).split(",") if d.strip().isdigit()]
    need = job.get("gpu_need_bytes", 1 << 30)
    for index in indices:
        if index >= torch.cuda.device_count():
            continue  # Ultralytics' select_device explains a missing GPU itself
        free, total = torch.cuda.mem_get_info(index)
        figures = f"GPU {index} has {free / 2**30:.1f} GiB free of {total / 2**30:.1f} GiB"
        if free < need:
            raise ResourceError(f"{figures}; this run needs about {need / 2**30:.1f} GiB. Close other GPU programs or lower the batch size.")
        if free < 2 * need:
            send.event(events.LOG, level="warning", message=f"{figures}; the run needs about {need / 2**30:.1f} GiB, so it may run short.")


def _resolve_model(job: dict):
    from ultralytics import YOLO

    if job.get("resume"):
        check_weights_file(job["resume"])  # checked again right before unpickling, in this process
        return YOLO(job["resume"])
    if job.get("weights_file") and Path(job["weights_file"]).is_file():
        check_weights_file(job["weights_file"])
    source = job.get("weights_file") or job["model_yaml"]
    model = YOLO(source, task=job["arch"])
    if job.get("weights_file") and model.task != job["arch"]:
        raise ValueError(f"The weights file {source} holds a {model.task} model, but this run trains {job['arch']}.")
    return model


def _freeze_count(model) -> int:
    """Layers in the model's backbone (frozen when the config asks to freeze the backbone)."""
    yaml_spec = getattr(model.model, "yaml", None) or {}
    return len(yaml_spec.get("backbone", [])) or 10


def main(job: dict, conn, cancel_event) -> None:
    """Entry point of the child process; `job` is plain data prepared by the engine."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the engine, which cancels cleanly
    _watch_parent()
    send = _Sender(conn, job["run"])
    run_dir = Path(job["run_dir"])
    _redirect_output(run_dir / "log.txt")
    if job.get("low_priority"):
        _lower_priority()
    reporter = None
    try:
        install_network_audit()
        configure_environment(allow_download=job.get("allow_download", False))
        os.chdir(run_dir)  # anything Ultralytics writes to a relative path lands in the run folder
        import ultralytics  # noqa: F401  (after the environment is set)
        from ultralytics.utils import SETTINGS

        SETTINGS.update({"sync": False, "clearml": False, "comet": False, "dvc": False, "mlflow": False,
                         "raytune": False, "tensorboard": False, "wandb": False, "vscode_msg": False,
                         "openvino_msg": False, "weights_dir": job["weights_dir"], "runs_dir": str(run_dir.parent),
                         "datasets_dir": job["datasets_dir"]})
        patch_ultralytics_offline()
        _LogForwarder(send).attach()
        _gpu_check(job, send)
        model = _resolve_model(job)
        reporter = _Reporter(send, cancel_event, job["arch"])
        for name, callback in reporter.callbacks().items():
            model.add_callback(name, callback)
        args = dict(job["args"])
        if job.get("resume"):
            args = {"resume": job["resume"], "data": args["data"], "save_dir": str(run_dir),
                    "workers": args.get("workers", 0), **({"device": args["device"]} if "device" in args else {})}
        elif job.get("freeze_backbone"):
            args["freeze"] = _freeze_count(model)
        reporter.check_cancel()
        model.train(**args)
        (run_dir / "weights" / SAFE_CHECKPOINT).unlink(missing_ok=True)  # only needed while resumable
        best = run_dir / "weights" / "best.pt"
        metrics = reporter.final_metrics or {}
        send.event(events.FINISHED, metrics=metrics, best=str(best) if best.exists() else None,
                   epoch=reporter.epochs_done)
    except Cancelled:  # before the UserError below: a Cancelled is one, but it ends the run as cancelled
        send.event(events.CANCELLED, metrics={}, best=None, epoch=reporter.epochs_done if reporter else 0)
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the engine as an event
        traceback.print_exc()
        message = str(exc) if isinstance(exc, UserError) else describe_failure(exc, job)
        send.event(events.FAILED, metrics={}, best=None, error=message,
                   epoch=reporter.epochs_done if reporter else 0)
    finally:
        sys.stdout.flush()
        try:
            conn.close()
        except OSError:
            pass


def process_main(job: dict, conn, cancel_event) -> None:
    """What the engine starts: `main`, then an immediate exit. The result is already sent and every file
    closed, so tearing down the interpreter with torch loaded (about a second here) would only delay
    the engine's "finished" and hold the training lock for nothing."""
    try:
        main(job, conn, cancel_event)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        os._exit(0)

"""The training engine: an asyncio loop on a background thread that supervises one child process per run.

Callers on any thread use `start`, `resume`, `cancel`, `subscribe` and `wait`. The engine writes every
event to the run's `events.jsonl`, keeps the run index current, and puts each event on every
subscriber's queue; a GUI drains its queue with `after()`, the CLI from its main thread. The engine
never imports torch or Ultralytics: only the child does.
"""

from __future__ import annotations

import asyncio
import csv
import logging
import multiprocessing
import queue
import threading
import time
import traceback
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from cardgrader import errors, paths
from cardgrader.errors import BusyError, Cancelled, ConfigError, ResourceError, UserError
from cardgrader.training import child, dataset, events, preflight, resources
from cardgrader.training.config import TrainingConfig
from cardgrader.training.lock import TrainingLock
from cardgrader.training.package import write_package
from cardgrader.training.request import RunRequest
from cardgrader.training.store import RunStore, new_run_id
from cardgrader.yolo_runtime import find_official_weights

log = logging.getLogger("cardgrader.engine")
CANCEL_GRACE = 2.0  # seconds the child gets to stop at a batch boundary before it is terminated
KILL_GRACE = 0.5
CANCEL_POLL = 0.25  # how often a run looks for a cancel request from another process


@dataclass
class _ActiveRun:
    id: str
    name: str
    config: TrainingConfig
    folder: Path
    request: RunRequest | None = None
    resume_from: Path | None = None
    completed: int = 0  # epochs finished before this (re)start
    warnings: list[str] = field(default_factory=list)
    process: Any = None
    cancel_event: Any = None
    cancel_requested: bool = False
    terminal: dict | None = None
    prepared: dataset.PreparedDataset | None = None
    epochs_done: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)  # stops the dataset import too


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest whole checkpoint: last.pt, or the safe copy when a kill left last.pt half-written."""
    for name in ("last.pt", child.SAFE_CHECKPOINT):
        path = folder / "weights" / name
        if path.is_file() and zipfile.is_zipfile(path):  # torch checkpoints are zip archives
            return path
    return None


def completed_epochs(history: list[dict]) -> int:
    """Epochs saved in checkpoints since the run last started from scratch."""
    saved = 0
    for event in history:
        if event["type"] == events.RUN_STARTED and not event.get("resumed_from_epoch"):
            saved = 0
        elif event["type"] == events.CHECKPOINT:
            saved = max(saved, int(event["epoch"]))
    return saved


def describe_exit(exitcode: int | None) -> str:
    if exitcode is None:
        return "The training process ended without a result."
    if exitcode < 0:
        import signal

        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " The system may have run out of memory." if name == "SIGKILL" else ""
        return f"The training process was stopped by {name}.{hint} The run can be resumed from its last checkpoint."
    return f"The training process ended unexpectedly (exit code {exitcode}). The run can be resumed from its last checkpoint."


def _recv(conn) -> dict | None:
    try:
        return conn.recv()
    except (EOFError, OSError):
        return None


def official_weights_problem(config: TrainingConfig) -> str | None:
    """Why the config's official pretrained weights cannot be used here (not on disk, downloads off), or None.
    The Model panel asks it as a setting is changed; Start asks it again."""
    if config.weights_kind != "official" or config.download_weights or find_official_weights(config.weights):
        return None
    return (f"The pretrained weights {config.weights} are not on this computer and downloads are off. "
            f"Download {config.weights} from https://github.com/ultralytics/assets/releases on a computer with "
            f"internet, then choose that file as the weights (--weights /path/to/{config.weights}) or copy it "
            f"into {paths.weights_dir()}; or train from scratch.")


class Engine:
    """Owns training runs. Thread-safe; one run at a time per data dir (see `lock`)."""

    def __init__(self, store: RunStore | None = None, low_priority: bool = False):
        """`low_priority`: train at a lower CPU priority, so a window in the same session stays quick."""
        self.store = store or RunStore()
        self.low_priority = low_priority
        self._ctx = multiprocessing.get_context("spawn")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="cardgrader-engine", daemon=True)
        self._thread.start()
        self._subscribers: list[queue.Queue] = []
        self._subscribers_lock = threading.Lock()
        self._runs: dict[str, _ActiveRun] = {}
        self._lock = TrainingLock()
        self._start_lock = threading.Lock()

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    # ---- subscribers ------------------------------------------------------------------------------
    def subscribe(self) -> queue.Queue:
        """A queue that receives every event from now on (plain dicts; treat them as read-only)."""
        q: queue.Queue = queue.Queue()
        with self._subscribers_lock:
            self._subscribers.append(q)
        return q

    def unsubscribe(self, q: queue.Queue) -> None:
        with self._subscribers_lock:
            if q in self._subscribers:
                self._subscribers.remove(q)

    # ---- commands (any thread) -----------------------------------------------------------------------
    @property
    def active_run(self) -> str | None:
        return next(iter(tuple(self._runs)), None)  # a snapshot: the loop thread changes the dict

    def start(self, request: RunRequest | TrainingConfig) -> str:
        """Check the data, the machine and the lock, create the run, and start it; returns the run id.
        The run builds (or reuses) its dataset from the request's sources first, with progress and Stop."""
        if isinstance(request, TrainingConfig):
            request = RunRequest(request)
        config = TrainingConfig.from_dict(request.config.to_dict())
        request = RunRequest(config, request.sources, request.split, request.seed, request.class_map)
        self._check_weights(config)
        dataset.check_source(request)
        weights_file = self._weights_file(config)
        preflight.run([weights_file] if weights_file and Path(weights_file).is_file() else [], config.device)
        run_id = new_run_id()
        name = self.store.unique_name(config.name or config.default_name())
        with self._start_lock:
            warnings = self._claim(config, run_id, name)
            try:
                record = self.store.create(config.updated(name=name), run_id=run_id)
                request.config = self.store.config(record.id)
                request.save(Path(record.folder))
            except BaseException:
                self._lock.release()
                raise
            run = _ActiveRun(record.id, record.name, request.config, Path(record.folder), request=request,
                             warnings=warnings)
            self._launch(run)
        return run.id

    def resume(self, ref: str) -> str:
        """Continue a cancelled, failed or interrupted run from its last checkpoint; returns its id."""
        record = self.store.resolve(ref)
        if record.status == "running":
            raise BusyError(f"Run '{record.name}' ({record.id}) is already training.")
        if record.status == "finished":
            raise ConfigError(
                f"Run '{record.name}' ({record.id}) already finished its {record.epochs} epochs; start a new run to train more.",
                field="run",
            )
        config = self.store.config(record.id)
        self._check_weights(config)
        folder = Path(record.folder)
        request = RunRequest.of_run(folder, config)
        dataset.check_resumable(request, folder)
        checkpoint = latest_checkpoint(folder)
        preflight.run([checkpoint] if checkpoint else [], config.device)  # the folder may come from elsewhere
        history = self.store.events(record.id)
        completed = completed_epochs(history) if checkpoint else 0
        with self._start_lock:
            warnings = self._claim(config, record.id, record.name)
            self.store.mark_running(record.id)
            if checkpoint is None and completed_epochs(history):
                warnings.append("No usable checkpoint was found, so the run starts again from epoch 1.")
            run = _ActiveRun(record.id, record.name, config, folder, request=request, resume_from=checkpoint,
                             completed=completed, warnings=warnings, epochs_done=completed)
            self._launch(run)
        return run.id

    def cancel(self, run_id: str | None = None) -> bool:
        """Ask a run (default: the active one) to stop; it is marked cancelled and stays resumable."""
        run = self._runs.get(run_id) if run_id else next(iter(tuple(self._runs.values())), None)
        if run is None:
            return False
        self._loop.call_soon_threadsafe(self._request_cancel, run)
        return True

    def follow(self, subscription: queue.Queue, run_id: str, on_event: Callable[[dict], None] | None = None,
               stop: threading.Event | None = None) -> dict:
        """Hand `on_event` each event of run `run_id` from `subscription` until the run ends, cancelling it
        once `stop` is set; returns the terminal event, after the run has wound down."""
        cancelling = False
        while True:
            if stop is not None and stop.is_set() and not cancelling:
                cancelling = True
                self.cancel(run_id)
            try:
                event = subscription.get(timeout=0.2)
            except queue.Empty:
                continue
            if event.get("run") != run_id:
                continue
            if on_event is not None:
                on_event(event)
            if event["type"] in events.TERMINAL:
                self.wait(run_id, timeout=30)
                return event

    def wait(self, run_id: str, timeout: float | None = None) -> str | None:
        """Block until the run ends; returns its final status (None on timeout)."""
        run = self._runs.get(run_id)
        if run is not None and not run.done.wait(timeout):
            return None
        return self.store.get(run_id).status

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel what is running (it stays resumable) and stop the loop thread."""
        for run in list(self._runs.values()):
            self.cancel(run.id)
        deadline = time.time() + timeout
        for run in list(self._runs.values()):
            run.done.wait(max(0.0, deadline - time.time()))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=2)

    # ---- start helpers -------------------------------------------------------------------------------
    def _check_weights(self, config: TrainingConfig) -> None:
        problem = official_weights_problem(config)
        if problem:
            raise ConfigError(problem, field="weights")

    def _claim(self, config: TrainingConfig, run_id: str, name: str) -> list[str]:
        if self._runs:
            active = next(iter(self._runs.values()))
            raise BusyError(f"Another training is running: run '{active.name}' ({active.id}). Wait for it or stop it first.")
        report = resources.check(config, self.store.root)
        if report.errors:
            raise ResourceError(report.errors[0])
        self._lock.acquire(run_id, name)
        return list(report.warnings)

    def _launch(self, run: _ActiveRun) -> None:
        (run.folder / "cancel.request").unlink(missing_ok=True)  # a request left from an earlier attempt
        self._runs[run.id] = run
        future = asyncio.run_coroutine_threadsafe(self._supervise(run), self._loop)
        future.add_done_callback(lambda f: f.cancelled() or f.exception() is None
                                 or log.error("run %s: supervisor crashed: %r", run.id, f.exception()))

    @staticmethod
    def _weights_file(config: TrainingConfig) -> str | None:
        """The file the child will load the starting weights from (None from scratch)."""
        if config.weights_kind == "file":
            return str(Path(config.weights).expanduser().resolve())
        if config.weights_kind == "official":
            local = find_official_weights(config.weights)
            return str(local) if local else config.weights  # a bare name downloads only when allowed
        return None

    def _job(self, run: _ActiveRun) -> dict[str, Any]:
        config = run.config
        weights_file = self._weights_file(config)
        return {
            "run": run.id,
            "run_dir": str(run.folder),
            "arch": config.arch,
            "model_yaml": config.model_yaml,
            "weights_file": weights_file,
            "resume": str(run.resume_from) if run.resume_from else None,
            "freeze_backbone": config.freeze_backbone,
            "args": config.ultralytics_args(run.prepared.yaml_path, run.folder),
            "allow_download": config.download_weights,
            "weights_dir": str(paths.weights_dir()),
            "datasets_dir": str(paths.datasets_dir()),
            "gpu_need_bytes": resources.gpu_need_bytes(config),
            "low_priority": self.low_priority,
        }

    # ---- the loop thread ---------------------------------------------------------------------------
    async def _in_thread(self, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        return await self._loop.run_in_executor(None, lambda: fn(*args, **kwargs))

    def _emit(self, run: _ActiveRun, event: dict, to_log: bool = False, publish: bool = True) -> None:
        """Index, file, log and subscribers each get the event; a failure of one (a full disk) is logged
        and does not keep it from the others, nor end the run."""
        if event["type"] == events.EPOCH:
            run.epochs_done = int(event["epoch"])
        steps = [lambda: self.store.record_event(run.id, event),
                 lambda: events.append(run.folder / "events.jsonl", [event])]
        if to_log or event["type"] in events.TERMINAL:
            steps.append(lambda: self._log_line(run, event))
        for step in steps:
            try:
                step()
            except Exception as exc:  # noqa: BLE001
                log.warning("run %s: could not record a %s event: %s", run.id, event["type"], exc)
        if publish:
            self._publish(event)

    @staticmethod
    def _log_line(run: _ActiveRun, event: dict) -> None:
        line = event.get("message") or event.get("error") or event["type"]
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(event["time"]))
        with open(run.folder / "log.txt", "a", encoding="utf-8") as handle:
            handle.write(f"[{stamp}] cardgrader {event.get('level', event['type'])}: {line}\n")

    def _publish(self, event: dict) -> None:
        with self._subscribers_lock:
            subscribers = list(self._subscribers)
        for q in subscribers:
            q.put(event)

    def _note(self, run: _ActiveRun, message: str, level: str = "info") -> None:
        self._emit(run, events.log(run.id, message, level), to_log=True)

    async def _supervise(self, run: _ActiveRun) -> None:
        poller = asyncio.ensure_future(self._poll_cancel_request(run))
        try:
            self._emit(run, events.make(events.RUN_STARTED, run.id, config={**run.config.to_dict(), "classes": run.config.class_names},
                                        epochs=run.config.epochs, resumed_from_epoch=run.completed))
            for warning in run.warnings:
                self._note(run, warning, "warning")
            run.prepared = await self._in_thread(dataset.prepare, run.request or RunRequest(run.config), run.folder,
                                                 progress=lambda m: self._loop.call_soon_threadsafe(self._note, run, m),
                                                 cancel=run.stop, resuming=run.resume_from is not None)
            if run.resume_from and run.completed >= run.config.epochs:
                self._note(run, "Every planned epoch was already trained; packaging the model.")
                await self._finish(run, events.make(events.FINISHED, run.id, metrics={}, best=None, epoch=run.completed))
            elif not run.cancel_requested:
                await self._train(run)
            if run.terminal is None:
                if run.cancel_requested:
                    self._terminal(run, events.make(events.CANCELLED, run.id, metrics={}, best=None, epoch=run.epochs_done))
                else:
                    code = run.process.exitcode if run.process else None
                    self._terminal(run, events.make(events.FAILED, run.id, metrics={}, best=None,
                                                    error=describe_exit(code), epoch=run.epochs_done))
        except Cancelled:
            self._terminal(run, events.make(events.CANCELLED, run.id, metrics={}, best=None, epoch=run.epochs_done))
        except UserError as exc:
            self._terminal(run, events.make(events.FAILED, run.id, metrics={}, best=None, error=str(exc), epoch=run.epochs_done))
        except Exception as exc:  # noqa: BLE001 - the engine must survive anything a run does
            log.error("run %s failed inside the engine:\n%s", run.id, traceback.format_exc())
            try:
                with open(run.folder / "log.txt", "a", encoding="utf-8") as handle:
                    handle.write(traceback.format_exc())
            except OSError:
                pass
            self._terminal(run, events.make(events.FAILED, run.id, metrics={}, best=None,
                                            error=errors.sentence(exc, run.folder / "log.txt"),
                                            epoch=run.epochs_done))
        finally:
            if run.terminal is None:  # whatever happened, the run ends with exactly one terminal event
                self._terminal(run, events.make(events.FAILED, run.id, metrics={}, best=None,
                                                error="The run ended without a result; see log.txt.", epoch=run.epochs_done))
            poller.cancel()
            if run.process is not None and run.process.is_alive():
                run.process.kill()
            self._lock.release()
            self._runs.pop(run.id, None)
            (run.folder / "cancel.request").unlink(missing_ok=True)
            run.done.set()
            if run.terminal is not None:
                self._publish(run.terminal)

    async def _train(self, run: _ActiveRun) -> None:
        parent_conn, child_conn = self._ctx.Pipe(duplex=False)
        run.cancel_event = self._ctx.Event()
        process = self._ctx.Process(target=child.process_main, args=(self._job(run), child_conn, run.cancel_event),
                                    name=f"cardgrader-train-{run.id}")
        await self._in_thread(process.start)
        run.process = process
        child_conn.close()
        if run.cancel_requested:  # Stop was pressed while the process was starting
            run.cancel_event.set()
            self._loop.call_later(CANCEL_GRACE, self._enforce_cancel, run)
        try:
            while True:
                message = await self._in_thread(_recv, parent_conn)
                if message is None:
                    break
                await self._on_message(run, message)
        finally:
            parent_conn.close()
        await self._in_thread(process.join)

    async def _on_message(self, run: _ActiveRun, message: dict) -> None:
        kind = message.get("type")
        if kind == child.RESUME_POINT:
            self._reconcile_history(run, int(message["start_epoch"]))
        elif kind == events.FINISHED:
            await self._finish(run, message)
        elif kind in events.TERMINAL:
            self._terminal(run, message)
        elif kind in events.TYPES:
            self._emit(run, message)

    def _terminal(self, run: _ActiveRun, event: dict) -> None:
        if run.terminal is None:  # subscribers hear of it once the run has let go of the machine
            event = {**event, "epoch": max(int(event.get("epoch") or 0), run.epochs_done)}
            run.terminal = event
            self._emit(run, event, publish=False)

    async def _finish(self, run: _ActiveRun, event: dict) -> None:
        history = self._history(run)
        dataset_info = {"fingerprint": run.prepared.fingerprint, "origin": run.prepared.origin,
                        "counts": run.prepared.counts} if run.prepared else {}
        event = dict(event)
        if not event.get("metrics"):
            epochs = events.epoch_history(history)
            event["metrics"] = epochs[-1]["metrics"] if epochs else {}
        best = run.folder / "weights" / "best.pt"
        event["best"] = str(best) if best.exists() else event.get("best")
        package = await self._in_thread(write_package, run.folder, run.id, run.config, dataset_info, history, event)
        event["model"] = str(package)
        self._terminal(run, event)

    def _reconcile_history(self, run: _ActiveRun, start_epoch: int) -> None:
        """Ultralytics resumes after `start_epoch` epochs. If the app died between saving a checkpoint
        and recording its epoch, recover that epoch's figures from results.csv so the history stays whole."""
        known = {e["epoch"] for e in events.epoch_history(self._history(run))}
        missing = [k for k in range(1, start_epoch + 1) if k not in known]
        if missing:
            rows = self._results_rows(run)
            for epoch in missing:
                row = rows.get(epoch)
                if row is None:
                    self._note(run, f"Epoch {epoch} was trained but its figures were lost when the app stopped.", "warning")
                    continue
                self._emit(run, events.make(
                    events.EPOCH, run.id, epoch=epoch, epochs=run.config.epochs,
                    train_losses=events.float_items(row, "train/"), val_losses=events.float_items(row, "val/"),
                    metrics=events.metrics_from_ultralytics(row, run.config.arch),
                    lr=float(row.get("lr/pg0", 0) or 0), seconds=None, recovered=True,
                ))
        run.completed = run.epochs_done = start_epoch

    def _history(self, run: _ActiveRun) -> list[dict]:
        """The run's recorded events; a file we cannot read costs the history, not the run."""
        try:
            return self.store.events(run.id)
        except OSError as exc:
            log.warning("run %s: could not read its events: %s", run.id, exc)
            return []

    @staticmethod
    def _results_rows(run: _ActiveRun) -> dict[int, dict]:
        path = run.folder / "results.csv"
        rows: dict[int, dict] = {}
        try:
            with open(path, newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    row = {k.strip(): v for k, v in row.items() if k}
                    try:
                        rows[int(float(row["epoch"]))] = row
                    except (KeyError, ValueError):
                        continue
        except OSError:
            pass
        return rows

    def _request_cancel(self, run: _ActiveRun) -> None:
        if run.cancel_requested or run.terminal is not None:
            return
        run.cancel_requested = True
        run.stop.set()
        if run.cancel_event is not None:
            run.cancel_event.set()
        if run.process is not None:
            self._loop.call_later(CANCEL_GRACE, self._enforce_cancel, run)
        self._note(run, "Stop requested; stopping at the next batch.")

    def _enforce_cancel(self, run: _ActiveRun) -> None:
        process = run.process
        if process is not None and process.is_alive():
            process.terminate()
            self._loop.call_later(KILL_GRACE, lambda: process.is_alive() and process.kill())

    async def _poll_cancel_request(self, run: _ActiveRun) -> None:
        request = run.folder / "cancel.request"
        while True:
            await asyncio.sleep(CANCEL_POLL)
            if request.exists():
                request.unlink(missing_ok=True)
                self._request_cancel(run)


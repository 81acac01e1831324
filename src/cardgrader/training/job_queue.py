"""The training queue: run requests lined up to train one after another (overnight, on a server).

The queue is one JSON file in the data folder (`queue.json`), rewritten whole and atomically
(temporary file, then rename) under an OS lock, so it survives closing the app and a kill -9 and two
processes editing it never lose each other's change. A job is queued, running, finished, failed or
cancelled; a job holds the id of its run once the run exists.

`run_queue` works through it, one training at a time, in order. A job whose runner died (kill -9,
power cut) is still marked running with its run id: the next runner resumes that run from its
checkpoint before it starts anything else. A failed job is marked failed and the queue goes on; a job
the grader stopped is marked cancelled and the queue goes on; stopping the runner itself leaves the
job's run resumable and the job first in line. Only one runner works on a data folder at a time
(`lock.QueueRunnerLock`). A paused queue finishes the job under way and starts no other.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from cardgrader import paths
from cardgrader.errors import ConfigError, UserError
from cardgrader.training import events
from cardgrader.training.lock import (
    FileLock,
    QueueRunnerLock,
    holder_if_alive,
    queue_lock_path,
)
from cardgrader.training.request import RunRequest

STATUSES = ("queued", "running", "finished", "failed", "cancelled")
PENDING = ("queued", "running")


def queue_path() -> Path:
    return paths.home() / "queue.json"


@dataclass
class Job:
    id: str
    name: str
    request: dict  # RunRequest.to_dict()
    status: str = "queued"
    run: str | None = None
    added: float = field(default_factory=time.time)
    started: float | None = None
    ended: float | None = None
    error: str | None = None

    @property
    def run_request(self) -> RunRequest:
        return RunRequest.from_dict(self.request)

    def to_json(self, position: int | None = None) -> dict:
        config = self.request.get("config") or {}
        return {"id": self.id, "status": self.status, "name": self.name, "position": position, "run": self.run,
                "task": config.get("task"), "arch": config.get("arch"), "side": config.get("side"),
                "epochs": config.get("epochs"), "sources": self.request.get("sources") or [],
                "added": self.added, "started": self.started, "ended": self.ended, "error": self.error}


class JobQueue:
    """The queue file of the current data folder. Every method reads and writes it afresh (any thread or process)."""

    def __init__(self, path: Path | None = None):
        self._path = path
        self._edit_lock = FileLock(lambda: self.path.with_name(self.path.name + ".lock"))
        self._thread_lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path or queue_path()

    # ---- reading and writing ---------------------------------------------------------------------
    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"paused": False, "jobs": []}
        except (OSError, ValueError) as exc:
            raise UserError(f"The training queue {self.path} cannot be read ({exc}); move it away to start a new "
                            "queue.") from None
        return {"paused": bool(data.get("paused")), "jobs": list(data.get("jobs") or [])}

    @contextlib.contextmanager
    def _editing(self) -> Iterator[dict]:
        with self._thread_lock:
            deadline = time.time() + 10
            while True:
                try:
                    self._edit_lock.acquire()
                    break
                except UserError:  # another process is writing it: a few milliseconds
                    if time.time() > deadline:
                        raise
                    time.sleep(0.02)
            try:
                data = self._read()
                yield data
                temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
                temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
                os.replace(temporary, self.path)
            finally:
                self._edit_lock.release()

    def jobs(self) -> list[Job]:
        return [Job(**j) for j in self._read()["jobs"]]

    @property
    def paused(self) -> bool:
        return self._read()["paused"]

    def set_paused(self, paused: bool) -> None:
        with self._editing() as data:
            data["paused"] = bool(paused)

    # ---- what a grader does ------------------------------------------------------------------------
    def add(self, request: RunRequest, name: str | None = None) -> Job:
        request.check()
        job = Job(id=uuid.uuid4().hex[:8], name=name or request.config.name or request.config.default_name(),
                  request=request.to_dict())
        with self._editing() as data:
            data["jobs"].append(asdict(job))
        return job

    def resolve(self, ref: str) -> Job:
        jobs = self.jobs()
        exact = [j for j in jobs if ref in (j.id, j.name)]
        matches = exact or [j for j in jobs if j.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise ConfigError(f"No queued job '{ref}'. `cardgrader queue list` shows the jobs.", field="job")
        raise ConfigError(f"'{ref}' matches {len(matches)} jobs ({', '.join(j.id for j in matches)}); give more "
                          "of the id.", field="job")

    def remove(self, ref: str) -> Job:
        job = self.resolve(ref)
        if job.status == "running" and self.runner() is not None:
            raise UserError(f"Job {job.id} ('{job.name}') is training now; stop its run first "
                            f"(`cardgrader runs cancel {job.run}`), then remove it.")
        with self._editing() as data:
            data["jobs"] = [j for j in data["jobs"] if j["id"] != job.id]
        return job

    def move(self, ref: str, position: int) -> Job:
        """Put a job at `position` (1 = first, as `queue list` numbers them)."""
        job = self.resolve(ref)
        with self._editing() as data:
            count = len(data["jobs"])
            if not 1 <= position <= count:
                raise ConfigError(f"POSITION must be between 1 and {count}; got {position}.", field="position")
            entry = next(j for j in data["jobs"] if j["id"] == job.id)
            data["jobs"].remove(entry)
            data["jobs"].insert(position - 1, entry)
        return job

    def clear_done(self) -> int:
        with self._editing() as data:
            before = len(data["jobs"])
            data["jobs"] = [j for j in data["jobs"] if j["status"] in PENDING]
            return before - len(data["jobs"])

    def runner(self) -> dict | None:
        """Who runs the queue now (None: nobody)."""
        return holder_if_alive(queue_lock_path())

    # ---- what the runner does ------------------------------------------------------------------------
    def update(self, job_id: str, **changes) -> None:
        with self._editing() as data:
            for entry in data["jobs"]:
                if entry["id"] == job_id:
                    entry.update(changes)

    def next_job(self) -> Job | None:
        """The job to work on now: one a dead runner left running first, then the first queued one."""
        data = self._read()
        if data["paused"]:
            return None
        jobs = [Job(**j) for j in data["jobs"]]
        return next((j for j in jobs if j.status == "running"), None) or \
            next((j for j in jobs if j.status == "queued"), None)


def run_queue(engine, job_queue: JobQueue | None = None, on_event: Callable[[dict], None] | None = None,
              stop: threading.Event | None = None, who: str = "cardgrader queue run",
              lock: QueueRunnerLock | None = None) -> dict[str, int]:
    """Train every job in order until the queue is empty, paused or `stop` is set; returns counts by status.

    `on_event` sees the engine's events of each job's run and `job_started` / `job_ended` events of its own.
    `lock`: the runner lock, already held by the caller (it is released here at the end); else taken here.
    """
    job_queue = job_queue or JobQueue()
    stop = stop or threading.Event()
    if lock is None:
        lock = QueueRunnerLock()
        lock.acquire(who=who)
    counts = {status: 0 for status in ("finished", "failed", "cancelled")}
    subscription = engine.subscribe()
    try:
        while not stop.is_set():
            job = job_queue.next_job()
            if job is None:
                break
            _emit(on_event, "job_started", job, run=job.run)
            job_queue.update(job.id, status="running", started=job.started or time.time(), error=None)
            try:
                run_id = _start_or_resume(engine, job)
            except UserError as exc:
                job_queue.update(job.id, status="failed", ended=time.time(), error=str(exc))
                counts["failed"] += 1
                _emit(on_event, "job_ended", job, status="failed", error=str(exc), run=job.run)
                continue
            if run_id is None:  # its run had already finished
                status, error = "finished", None
            else:
                job_queue.update(job.id, run=run_id)
                final = engine.follow(subscription, run_id, on_event, stop)
                status, error = final["type"], final.get("error")
            if stop.is_set() and status == events.CANCELLED:
                job_queue.update(job.id, status="queued")  # the runner was stopped: the job resumes next time
                _emit(on_event, "job_ended", job, status="queued", run=run_id)
                break
            job_queue.update(job.id, status=status, ended=time.time(), error=error)
            counts[status] += 1
            _emit(on_event, "job_ended", job, status=status, error=error, run=run_id)
    finally:
        engine.unsubscribe(subscription)
        lock.release()
    return counts


def _start_or_resume(engine, job: Job) -> str | None:
    if job.run:
        try:
            record = engine.store.get(job.run)
        except UserError:
            record = None
        if record is not None:
            if record.status == "finished":
                return None
            return engine.resume(job.run)
    return engine.start(job.run_request)


def _emit(on_event, kind: str, job: Job, **extra) -> None:
    if on_event:
        on_event({"type": kind, "job": job.id, "name": job.name, "time": time.time(), **extra})


class QueueRunner:
    """`run_queue` on a background thread (the app's runner): start, ask to stop, see whether it works."""

    def __init__(self, engine, job_queue: JobQueue | None = None, who: str = "the cardgrader app"):
        self.engine, self.job_queue, self.who = engine, job_queue or JobQueue(), who
        self.stop_event = threading.Event()
        self.error: BaseException | None = None
        self.counts: dict[str, int] | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Take the runner lock here (a refusal raises BusyError in the caller), then work on a thread."""
        lock = QueueRunnerLock()
        lock.acquire(who=self.who)  # fail fast with the holder's sentence; run_queue keeps it and releases it
        self._thread = threading.Thread(target=self._work, args=(lock,), name="cardgrader-queue", daemon=True)
        self._thread.start()

    def _work(self, lock: QueueRunnerLock) -> None:
        try:
            self.counts = run_queue(self.engine, self.job_queue, stop=self.stop_event, who=self.who, lock=lock)
        except BaseException as exc:  # noqa: BLE001 - shown by the window
            self.error = exc

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Stop now: the run under way is cancelled, stays resumable, and its job stays first."""
        self.stop_event.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

"""One training at a time per data dir: an OS file lock that dies with its process.

The lock file also records who holds it (pid, run id and name), so a refused start can say which
run is training. A file left by a dead process is not locked by anyone, so it is simply taken over:
that is the stale-lock recovery, and it cannot race because the OS lock decides, not the pid.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Callable

from cardgrader import paths
from cardgrader.errors import BusyError

if os.name == "nt":  # pragma: no cover - exercised on Windows builds
    import msvcrt

    _LOCKED_BYTE = 1 << 20  # far past the holder record, so the record stays readable by others

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, _LOCKED_BYTE, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, _LOCKED_BYTE, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def lock_path() -> Path:
    return paths.home() / "training.lock"


def queue_lock_path() -> Path:
    return paths.home() / "queue-runner.lock"


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        import psutil

        return psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except Exception:  # noqa: BLE001 - psutil may deny access to another user's process: it exists
        return True


def read_holder(path: Path | None = None) -> dict | None:
    """Who the lock file names, whether or not that process still holds it."""
    try:
        return json.loads((path or lock_path()).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class FileLock:
    """An OS lock on a file that records its holder; taken without waiting, released by the OS on any exit."""

    def __init__(self, path: Callable[[], Path]) -> None:
        self._path = path  # looked up at each acquire: the data folder may change between runs
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def busy_message(self, holder: dict) -> str:
        return f"{self._path()} is held by process {holder.get('pid', '?')}."

    def acquire(self, **record) -> None:
        path = self._path()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            raise BusyError(self.busy_message(read_holder(path) or {}))
        data = json.dumps({"pid": os.getpid(), **record, "since": time.time()}).encode()
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, data)
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            _unlock(fd)
        finally:
            os.close(fd)


class TrainingLock(FileLock):
    """Held by the process that runs the engine for the whole of one run."""

    def __init__(self) -> None:
        super().__init__(lock_path)

    def busy_message(self, holder: dict) -> str:
        return (f"Another training is running: run '{holder.get('name', '?')}' ({holder.get('run', '?')}) in "
                f"process {holder.get('pid', '?')}. Wait for it to finish or stop it with "
                f"`cardgrader runs cancel {holder.get('run', 'RUN')}`.")

    def acquire(self, run_id: str, name: str) -> None:  # type: ignore[override]
        super().acquire(run=run_id, name=name)


class QueueRunnerLock(FileLock):
    """Held by the one process working through the training queue of a data folder."""

    def __init__(self) -> None:
        super().__init__(queue_lock_path)

    def busy_message(self, holder: dict) -> str:
        return (f"The training queue is already being run by process {holder.get('pid', '?')} "
                f"({holder.get('who', 'cardgrader')}); only one runner works on a data folder at a time.")


def holder_if_alive(path: Path | None = None) -> dict | None:
    """The holder of the lock when some live process holds it, else None (and the file is stale)."""
    path = path or lock_path()
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDWR)
    try:
        if _try_lock(fd):
            _unlock(fd)
            return None
    finally:
        os.close(fd)
    return read_holder(path)

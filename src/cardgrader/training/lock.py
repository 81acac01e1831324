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


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        import psutil

        return psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except Exception:  # noqa: BLE001 - psutil may deny access to another user's process: it exists
        return True


def read_holder() -> dict | None:
    """Who the lock file names, whether or not that process still holds it."""
    try:
        return json.loads(lock_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class TrainingLock:
    """Held by the process that runs the engine for the whole of one run."""

    def __init__(self) -> None:
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, run_id: str, name: str) -> None:
        path = lock_path()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            holder = read_holder() or {}
            raise BusyError(
                f"Another training is running: run '{holder.get('name', '?')}' ({holder.get('run', '?')}) in "
                f"process {holder.get('pid', '?')}. Wait for it to finish or stop it with "
                f"`cardgrader runs cancel {holder.get('run', 'RUN')}`."
            )
        record = {"pid": os.getpid(), "run": run_id, "name": name, "since": time.time()}
        data = json.dumps(record).encode()
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


def holder_if_alive() -> dict | None:
    """The holder of the lock when some live process holds it, else None (and the file is stale)."""
    path = lock_path()
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDWR)
    try:
        if _try_lock(fd):
            _unlock(fd)
            return None
    finally:
        os.close(fd)
    return read_holder()

"""The run store: one folder per run under `$CARDGRADER_HOME/runs/`, and a SQLite index of them.

The folders are the truth (config.yaml, events.jsonl, weights/, model/); the index is a fast list that is
rebuilt from them when missing or damaged. A run whose index row says `running` but whose process is
gone is reported as `interrupted` and can be resumed.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sqlite3
import time
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml

from cardgrader import paths
from cardgrader.errors import BusyError, ConfigError, UserError
from cardgrader.training import events
from cardgrader.training.config import TrainingConfig
from cardgrader.training.lock import holder_if_alive, pid_alive

STATUSES = ("running", "finished", "failed", "cancelled", "interrupted")
RESUMABLE = ("cancelled", "failed", "interrupted")
_COLUMNS = ("id", "name", "status", "task", "arch", "side", "border", "model", "epochs", "epochs_done",
            "best_mAP50_95", "best_mAP50", "started", "ended", "pid", "pid_started", "trained", "segment")
# Columns added after the first index format, with their SQL types: an older index gains them on opening.
_ADDED_COLUMNS = {"trained": "REAL", "segment": "REAL"}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, task TEXT, arch TEXT, side TEXT,
    border TEXT, model TEXT, epochs INTEGER, epochs_done INTEGER DEFAULT 0, best_mAP50_95 REAL,
    best_mAP50 REAL, started REAL, ended REAL, pid INTEGER, pid_started REAL, trained REAL, segment REAL
)"""



def training_time(history: list[dict]) -> tuple[float, float | None]:
    """(seconds trained in the sessions that ended, start of the one still open or None) from a run's
    events: each session runs from a run_started to the next terminal event, or to its last event."""
    trained, start, last = 0.0, None, None
    for event in history:
        when = event.get("time")
        if when is None:
            continue
        if event["type"] == events.RUN_STARTED:
            if start is not None and last is not None:  # a session that ended without a word (killed)
                trained += max(0.0, last - start)
            start = when
        elif event["type"] in events.TERMINAL and start is not None:
            trained += max(0.0, when - start)
            start = None
        last = when
    return trained, start

@dataclass
class RunRecord:
    id: str
    name: str
    status: str
    task: str
    arch: str
    side: str
    border: str
    model: str
    epochs: int
    epochs_done: int
    best_mAP50_95: float | None
    best_mAP50: float | None
    started: float | None
    ended: float | None
    pid: int | None
    pid_started: float | None
    trained: float | None = None  # seconds trained in the sessions that ended (stopped, closed time left out)
    segment: float | None = None  # when the session under way started; None while none is
    folder: str = ""

    @property
    def duration(self) -> float | None:
        """Time spent training: each session from its start to its end, not the time it lay stopped."""
        if self.started is None:
            return None
        if self.trained is None:  # a row from before sessions were counted
            return (self.ended or time.time()) - self.started
        return self.trained + (time.time() - self.segment if self.segment is not None else 0.0)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("pid_started")
        out["duration"] = None if self.duration is None else round(self.duration, 1)
        return out


def _number(value) -> float:
    """A metric for the index's running maximum (-1 stands for none)."""
    return -1.0 if value is None else float(value)


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def process_started(pid: int) -> float | None:
    try:
        import psutil

        return psutil.Process(pid).create_time()
    except Exception:  # noqa: BLE001
        return None


def owner_alive(pid: int | None, started: float | None) -> bool:
    if not pid or not pid_alive(pid):
        return False
    actual = process_started(pid)
    return started is None or actual is None or abs(actual - started) < 2.0


class RunStore:
    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else paths.runs_dir()
        self.root.mkdir(parents=True, exist_ok=True)
        self.index = self.root / "index.sqlite"
        self._ensure_index()

    # ---- index plumbing ---------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.index, timeout=15)
        conn.row_factory = sqlite3.Row
        return conn

    def _ensure_index(self) -> None:
        missing = not self.index.exists()
        try:
            with closing(self._connect()) as conn, conn:
                conn.execute(_SCHEMA)
                have = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
                for name, kind in _ADDED_COLUMNS.items():
                    if name not in have:
                        conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
                conn.execute("SELECT count(*) FROM runs").fetchone()
        except sqlite3.OperationalError as exc:  # locked, or the disk refuses: the index itself is fine
            raise UserError(f"The run index {self.index} cannot be used right now ({exc}); "
                            "check the disk, or close other cardgrader windows, and try again.") from None
        except sqlite3.DatabaseError:  # not a database, or malformed: rebuild it from the run folders
            self.index.replace(self.index.with_name(f"index.damaged-{int(time.time())}.sqlite"))
            missing = True
            with closing(self._connect()) as conn, conn:
                conn.execute(_SCHEMA)
        if missing:
            self.rebuild()

    def _record(self, row: sqlite3.Row) -> RunRecord:
        values = {k: row[k] for k in _COLUMNS}
        return RunRecord(**values, folder=str(self.root / row["id"]))

    def _upsert(self, values: dict[str, Any]) -> None:
        cols = [c for c in _COLUMNS if c in values]
        sql = (f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}) "
               f"ON CONFLICT(id) DO UPDATE SET {', '.join(f'{c}=excluded.{c}' for c in cols if c != 'id')}")
        with closing(self._connect()) as conn, conn:
            conn.execute(sql, [values[c] for c in cols])

    def _update(self, run_id: str, **values: Any) -> None:
        if not values:
            return
        with closing(self._connect()) as conn, conn:
            conn.execute(f"UPDATE runs SET {', '.join(f'{k}=?' for k in values)} WHERE id=?", [*values.values(), run_id])

    # ---- folders ----------------------------------------------------------------------------------
    def folder(self, run_id: str) -> Path:
        return self.root / run_id

    def events_path(self, run_id: str) -> Path:
        return self.folder(run_id) / "events.jsonl"

    def events(self, run_id: str) -> list[dict]:
        return events.read(self.events_path(run_id))

    def config(self, run_id: str) -> TrainingConfig:
        values = yaml.safe_load((self.folder(run_id) / "config.yaml").read_text(encoding="utf-8")) or {}
        return TrainingConfig.from_dict(values, source=f"config of run {run_id}")

    def _write_config(self, run_id: str, config: TrainingConfig) -> None:
        values = config.to_dict()
        values["classes"] = config.class_names
        (self.folder(run_id) / "config.yaml").write_text(yaml.safe_dump(values, sort_keys=False, allow_unicode=True),
                                                          encoding="utf-8")

    # ---- runs -------------------------------------------------------------------------------------
    def create(self, config: TrainingConfig, run_id: str | None = None) -> RunRecord:
        """A new run folder and index row, owned by this process."""
        run_id = run_id or new_run_id()
        if self.folder(run_id).exists():
            raise ConfigError(f"A run folder {run_id} already exists.", field="run")
        name = self.unique_name(config.name or config.default_name())
        config = config.updated(name=name)
        folder = self.folder(run_id)
        (folder / "weights").mkdir(parents=True)
        self._write_config(run_id, config)
        self._upsert({
            "id": run_id, "name": name, "status": "running", "task": config.task, "arch": config.arch,
            "side": config.side, "border": config.border, "model": f"{config.family}{config.size}",
            "epochs": config.epochs, "epochs_done": 0, "best_mAP50_95": None, "best_mAP50": None,
            "started": (now := time.time()), "ended": None, "pid": os.getpid(),
            "pid_started": process_started(os.getpid()), "trained": 0.0, "segment": now,
        })
        return self.get(run_id)

    def mark_running(self, run_id: str) -> None:
        self._update(run_id, status="running", ended=None, pid=os.getpid(), pid_started=process_started(os.getpid()),
                     segment=time.time())

    def record_event(self, run_id: str, event: dict) -> None:
        """Keep the index row up to date with an event the engine just wrote."""
        kind = event["type"]
        if kind == events.EPOCH:
            metrics = event.get("metrics") or {}
            with closing(self._connect()) as conn, conn:
                conn.execute(
                    "UPDATE runs SET epochs_done=?, "
                    "best_mAP50_95=max(coalesce(best_mAP50_95, -1), ?), best_mAP50=max(coalesce(best_mAP50, -1), ?) "
                    "WHERE id=?",
                    [event["epoch"], _number(metrics.get("mAP50_95")), _number(metrics.get("mAP50")), run_id],
                )
        elif kind in events.TERMINAL:
            ended = event.get("time", time.time())
            self._end_session(run_id, ended)
            self._update(run_id, status=kind, ended=ended, pid=None)
            if kind == events.FINISHED and event.get("metrics"):
                metrics = event["metrics"]
                with closing(self._connect()) as conn, conn:
                    conn.execute(
                        "UPDATE runs SET best_mAP50_95=max(coalesce(best_mAP50_95, -1), ?), "
                        "best_mAP50=max(coalesce(best_mAP50, -1), ?) WHERE id=?",
                        [_number(metrics.get("mAP50_95")), _number(metrics.get("mAP50")), run_id],
                    )

    def _end_session(self, run_id: str, ended: float) -> None:
        """Add the session under way (from `segment` to `ended`) to the run's trained time."""
        with closing(self._connect()) as conn, conn:
            conn.execute("UPDATE runs SET trained = coalesce(trained, 0) + max(0, ? - segment), segment = NULL "
                         "WHERE id=? AND segment IS NOT NULL", [ended, run_id])

    def get_trained(self, run_id: str) -> float | None:
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT trained FROM runs WHERE id=?", [run_id]).fetchone()
        return None if row is None else row[0]

    def _reconcile(self, record: RunRecord) -> RunRecord:
        if record.status == "running" and not owner_alive(record.pid, record.pid_started):
            history = self.events(record.id)
            record.status = "interrupted"
            record.ended = history[-1]["time"] if history else record.started  # its last sign of life
            self._end_session(record.id, record.ended)
            self._update(record.id, status="interrupted", pid=None, ended=record.ended)
            record.trained, record.segment = self.get_trained(record.id), None
        for key in ("best_mAP50_95", "best_mAP50"):
            if getattr(record, key) is not None and getattr(record, key) < 0:
                setattr(record, key, None)
        return record

    def get(self, run_id: str) -> RunRecord:
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT * FROM runs WHERE id=?", [run_id]).fetchone()
        if row is None:
            raise ConfigError(f"There is no run {run_id!r}; `cardgrader runs list` shows the runs.", field="run")
        return self._reconcile(self._record(row))

    def list(self) -> list[RunRecord]:
        with closing(self._connect()) as conn:
            rows = conn.execute("SELECT * FROM runs ORDER BY started DESC, id DESC").fetchall()
        return [self._reconcile(self._record(r)) for r in rows if self.folder(r["id"]).is_dir()]

    def resolve(self, ref: str) -> RunRecord:
        """A run by id, unique id prefix, or name."""
        with closing(self._connect()) as conn:
            rows = conn.execute("SELECT * FROM runs WHERE id=? OR name=?", [ref, ref]).fetchall()
            if not rows:
                rows = conn.execute("SELECT * FROM runs WHERE id LIKE ?", [ref.replace("%", "") + "%"]).fetchall()
        if len(rows) == 1:
            return self._reconcile(self._record(rows[0]))
        if not rows:
            raise ConfigError(f"No run matches {ref!r}; `cardgrader runs list` shows the runs.", field="run")
        ids = ", ".join(r["id"] for r in rows[:5])
        raise ConfigError(f"{ref!r} matches several runs ({ids}); give the full run id.", field="run")

    def unique_name(self, base: str, exclude: str | None = None) -> str:
        """`base`, or `base-2`, `base-3`, ... whichever is free."""
        with closing(self._connect()) as conn:
            taken = {r[0] for r in conn.execute("SELECT name FROM runs WHERE id != ?", [exclude or ""])}
        if base not in taken:
            return base
        stem = re.sub(r"-\d+$", "", base)
        n = 2
        while f"{stem}-{n}" in taken:
            n += 1
        return f"{stem}-{n}"

    def rename(self, run_id: str, new_name: str) -> RunRecord:
        new_name = (new_name or "").strip()
        if not new_name or len(new_name) > 80:
            raise ConfigError("A run name must be 1 to 80 characters.", field="name")
        if self.unique_name(new_name, exclude=run_id) != new_name:
            suggestion = self.unique_name(new_name)
            raise ConfigError(f"Another run is already named {new_name!r}; try {suggestion!r}.", field="name")
        config = self.config(run_id).updated(name=new_name)
        self._write_config(run_id, config)
        self._update(run_id, name=new_name)
        return self.get(run_id)

    def delete(self, run_id: str) -> None:
        record = self.get(run_id)
        if record.status == "running":
            raise BusyError(f"Run '{record.name}' ({run_id}) is training; cancel it before deleting it.")
        shutil.rmtree(self.folder(run_id), ignore_errors=True)
        with closing(self._connect()) as conn, conn:
            conn.execute("DELETE FROM runs WHERE id=?", [run_id])

    def request_cancel(self, run_id: str) -> Path:
        """Ask whichever process runs this run to stop (it polls for this file)."""
        path = self.folder(run_id) / "cancel.request"
        path.write_text(str(time.time()), encoding="utf-8")
        return path

    # ---- rebuild ----------------------------------------------------------------------------------
    def _folders(self) -> Iterator[Path]:
        for folder in sorted(self.root.iterdir()):
            if folder.is_dir() and (folder / "config.yaml").is_file():
                yield folder

    def rebuild(self) -> int:
        """Re-create every index row from the run folders; returns the number of runs found."""
        holder = holder_if_alive() or {}
        count = 0
        for folder in self._folders():
            try:
                config = self.config(folder.name)
            except (ConfigError, OSError, yaml.YAMLError):
                continue
            history = events.read(folder / "events.jsonl")
            status = events.status_of(history)
            pid = None
            if status is None:
                if holder.get("run") == folder.name:
                    status, pid = "running", holder.get("pid")
                else:
                    status = "interrupted"
            epochs = events.epoch_history(history)
            starts = [e["time"] for e in history if e["type"] == events.RUN_STARTED]
            ends = [e["time"] for e in history if e["type"] in events.TERMINAL]
            trained, segment = training_time(history)
            if segment is not None and status != "running":  # its last session ended unannounced
                trained, segment = trained + max(0.0, history[-1]["time"] - segment), None
            best = events.best_metric(history)
            best50 = events.best_metric(history, "mAP50")
            self._upsert({
                "id": folder.name, "name": config.name or folder.name, "status": status, "task": config.task,
                "arch": config.arch, "side": config.side, "border": config.border,
                "model": f"{config.family}{config.size}", "epochs": config.epochs,
                "epochs_done": epochs[-1]["epoch"] if epochs else 0, "best_mAP50_95": best, "best_mAP50": best50,
                "started": starts[0] if starts else folder.stat().st_mtime,
                "ended": ends[-1] if ends and status != "running" else None, "pid": pid,
                "pid_started": process_started(pid) if pid else None,
                "trained": trained, "segment": segment,
            })
            count += 1
        return count

"""The Tk-free model of a grader's session: what the workstation's panels show and change.

It owns the chosen sources and their scan, the check report for the current task, the grader's class
mappings, the split and its seed, the draft training config and the run's name; it turns them into
the run request that Start trains or "Add to queue" lines up. Panels are views: they call its methods
and redraw on its events; they never read each other's widgets. Everything here runs on the caller's
thread and emits events synchronously; work that takes long (reading the sources) is handed out as a
plain job (`scan_job`) that the caller runs where it likes, and its result comes back through
`set_scan`, so a window can run it on a worker and apply it on its main thread.

Events are plain dicts `{"type": "workstation", "what": …}` with `what` one of SOURCES, SCAN, REPORT,
SPLIT, CLASS_MAP, CONFIG, NAME.
"""

from __future__ import annotations

import threading
from typing import Callable

from cardgrader.errors import ConfigError, UserError
from cardgrader.training.config import TrainingConfig
from cardgrader.training.request import DEFAULT_SPLIT, RunRequest
from cardgrader.vocabulary import ARCH_LABELS, TASK_LABELS

SOURCES, SCAN, REPORT, SPLIT, CLASS_MAP, CONFIG, NAME = ("sources", "scan", "report", "split", "class_map",
                                                          "config", "name")
FIELD_WORDS = {"epochs": "epochs", "batch": "batch size", "imgsz": "image size", "lr0": "learning rate",
               "optimizer": "optimizer", "patience": "early-stop patience", "augment": "augmentation"}


def describe(config: TrainingConfig) -> str:
    """One line that says what a config trains (the Model panel's summary, the Train panel's "Ready")."""
    border = f" · border {config.border}" if config.task in ("border", "centering") else ""
    return (f"{ARCH_LABELS[config.arch]} · {TASK_LABELS[config.task]}{border} · classes "
            f"{', '.join(config.class_names)} · {config.side} · {config.family}{config.size} from {config.weights} · "
            f"{config.epochs} epochs at {config.imgsz} px")


class Workstation:
    def __init__(self, config: TrainingConfig | None = None):
        self.sources: list[str] = []
        self.scan = None  # data.scan.Scan of the current sources (None: not read yet, or being read)
        self.report = None  # data.model.CheckReport of the scan for the current task and class map
        self.report_error: str | None = None  # why the scan could not be judged, when it could not
        self.scan_stopped = False  # the last reading was stopped before it finished
        self.class_map: dict[str, str | None] = {}  # the grader's mappings on top of the saved ones
        self.split = DEFAULT_SPLIT
        self.seed = 0
        self.config: TrainingConfig | None = config or TrainingConfig()  # None while a setting is wrong
        self.task, self.border = self.config.task, self.config.border  # known even while the config is wrong
        self.run_name = ""
        self.touched: set[str] = set()  # config fields the grader set by hand since the last preset or restore
        self._generation = 0  # which reading of the sources a scan result belongs to
        self._judged_for: tuple | None = None
        self._listeners: list[Callable[[dict], None]] = []

    # ---- events --------------------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[dict], None]) -> None:
        self._listeners.append(callback)

    def _emit(self, what: str, **extra) -> None:
        event = {"type": "workstation", "what": what, **extra}
        for callback in list(self._listeners):
            callback(event)

    # ---- sources and their scan ----------------------------------------------------------------------
    def add_sources(self, paths: list[str]) -> None:
        new = [p for p in dict.fromkeys(str(x) for x in paths) if p not in self.sources]
        if new:
            self.sources.extend(new)
            self._sources_changed()

    def remove_source(self, path: str) -> None:
        self.sources.remove(path)
        self._sources_changed()

    def clear_sources(self) -> None:
        self.sources = []
        self._sources_changed()

    def restore_sources(self, paths: list[str]) -> None:
        """The last session's sources, without reading them yet (the caller starts the scan)."""
        self.sources = [str(p) for p in paths]
        self._sources_changed()

    def _sources_changed(self) -> None:
        self._generation += 1
        self.scan = self.report = self.report_error = None
        self.scan_stopped = False
        self._emit(SOURCES, sources=list(self.sources))

    def scan_job(self) -> tuple[int, Callable]:
        """(a ticket, a job) that reads the current sources: `job(progress, cancel)` touches nothing here
        and may run on any thread; hand its result and the ticket to `set_scan`."""
        from cardgrader.data.scan import scan

        paths = list(self.sources)
        return self._generation, lambda progress=None, cancel=None: scan(paths, progress=progress, cancel=cancel)

    def set_scan(self, ticket: int, result) -> bool:
        """Take a finished reading; one of sources that changed since is ignored (returns False)."""
        if ticket != self._generation:
            return False
        self.scan = result
        self.scan_stopped = False
        self._emit(SCAN)
        self.judge()
        return True

    def scan_was_stopped(self, ticket: int) -> None:
        if ticket == self._generation:
            self._generation += 1  # a late result of the stopped reading is ignored
            self.scan_stopped = True
            self._emit(SCAN, stopped=True)

    def scan_sources(self, progress=None, cancel: threading.Event | None = None):
        """Read the sources here and now (the CLI and tests; a window runs `scan_job` on a worker)."""
        ticket, job = self.scan_job()
        self.set_scan(ticket, job(progress, cancel))
        return self.report

    # ---- the report for the current task --------------------------------------------------------------
    def targets(self) -> tuple[str, str, list[str]]:
        classes = self.config.class_names if self.config else []
        return self.task or "border", self.border or "dual", list(classes)

    def class_mapping(self):
        from cardgrader.data.classmap import ClassMap

        base = ClassMap.load()
        return ClassMap(user={**base.user, **self.class_map})

    def judge(self) -> None:
        """Re-judge the scan for the current task, classes and mappings (no file is read again)."""
        from cardgrader.data.check import report_for

        if self.scan is None:
            return
        task, border, classes = self.targets()
        self._judged_for = (task, border, tuple(classes), tuple(sorted(self.class_map.items(), key=str)))
        try:
            self.report, self.report_error = report_for(self.scan, task, border, classes or None,
                                                        self.class_mapping()), None
        except UserError as exc:  # e.g. a class map that names no class of the task
            self.report, self.report_error = None, str(exc)
        self._emit(REPORT, error=self.report_error)

    def map_class(self, label: str, target: str | None) -> None:
        self.class_map[label] = target
        self._emit(CLASS_MAP, label=label, target=target)
        self.judge()

    # ---- split, config, name ---------------------------------------------------------------------------
    def set_split(self, shares: str, seed: int | str) -> None:
        """Raises ConfigError (naming the split or the seed) and keeps the old values when they are wrong."""
        from cardgrader.data.split import parse_ratios

        parse_ratios(shares)
        try:
            seed = int(str(seed).strip() or "0")
        except ValueError:
            raise ConfigError("The split seed must be a whole number.", field="seed") from None
        if (shares, seed) != (self.split, self.seed):
            self.split, self.seed = shares, seed
            self._emit(SPLIT, split=shares, seed=seed)

    def split_note(self) -> str:
        """'' when the split's shares add up to 1; else how they are used (they are scaled to add up)."""
        from cardgrader.data.split import parse_ratios

        given = [float(p) for p in self.split.split(",")]
        if abs(sum(given) - 1.0) < 1e-6:
            return ""
        used = parse_ratios(self.split)
        return (f"The shares add up to {sum(given):g}, not 1, so they are scaled: train {used[0]:.0%}, "
                f"val {used[1]:.0%}, test {used[2]:.0%}.")

    def set_config(self, config: TrainingConfig | None, task: str | None = None, border: str | None = None) -> None:
        """The draft config (None while a setting is wrong; `task` and `border` are still the chosen ones)."""
        self.config = config
        self.task = task or (config.task if config else self.task)
        self.border = border or (config.border if config else self.border)
        self._emit(CONFIG)
        task_now, border_now, classes = self.targets()
        if self.scan is not None and self._judged_for is not None and \
                self._judged_for[:3] != (task_now, border_now, tuple(classes)):
            self.judge()

    # ---- what the grader typed wins over a task's profile ------------------------------------------
    def touch(self, name: str) -> None:
        """The grader set config field `name` by hand: a change of task leaves it as it is."""
        self.touched.add(name)

    def forget_touches(self) -> None:
        """A preset or a restored run was chosen: its values are the starting point now."""
        self.touched.clear()

    def task_changed(self, task: str, current: dict) -> tuple[dict, str]:
        """The task's profile values (epochs, image size, augmentation, ...) for the fields the grader has
        not set by hand, and a sentence saying what changed and what was kept ('' when nothing was)."""
        from cardgrader.training.presets import task_defaults

        updates, kept = {}, []
        for name, value in task_defaults(task).items():
            if name not in current or str(current[name]) == str(value):
                continue
            if name in self.touched:
                kept.append(f"{FIELD_WORDS.get(name, name)} {current[name]}")
            else:
                updates[name] = value
        parts = []
        if updates:
            parts.append(f"{TASK_LABELS.get(task, task)} sets " + ", ".join(
                f"{FIELD_WORDS.get(name, name)} {value}" for name, value in updates.items()))
        if kept:
            parts.append("kept what you set: " + ", ".join(kept))
        return updates, ("; ".join(parts) + ".") if parts else ""

    def set_run_name(self, name: str) -> None:
        if name.strip() != self.run_name:
            self.run_name = name.strip()
            self._emit(NAME)

    # ---- what Start needs --------------------------------------------------------------------------------
    @property
    def side(self) -> str:
        return self.config.side if self.config else "both"

    def trainable_images(self) -> int:
        """Labelled images a run would train on: of the chosen side, with labels of the task's classes."""
        from cardgrader.data.build import trainable

        if self.report is None:
            return 0
        return trainable(self.report, self.targets()[2] or None, self.side, self.class_mapping())

    def planned_images(self) -> tuple[int, int]:
        """About how many labelled images a run would train and validate on with the current split."""
        from cardgrader.data.split import parse_ratios

        count = self.trainable_images()
        train_share, val_share, _test = parse_ratios(self.split)
        return round(count * train_share), round(count * val_share)

    def readiness(self, reading: bool = False) -> tuple[bool, str]:
        """Whether Start can train, and the sentence that says why not (`reading`: a scan is under way)."""
        if not self.sources:
            return False, "Add card photos and labels on the Data panel (or try the sample cards)."
        if self.scan_stopped and self.scan is None:
            return False, "Scanning was stopped before it finished; add the data again to look at it."
        if self.report_error and not reading:
            return False, self.report_error
        if reading or self.scan is None or self.report is None:
            return False, "Looking at your data…"
        count = self.trainable_images()
        if count < 2:
            sides = {"front": " front", "back": " back"}.get(self.side, "")
            return False, (f"No{sides} images with labels for the {self.targets()[0]} task's classes yet "
                           f"({count} found); check the Classes tab, the card side, or add labelled photos.")
        if self.config is None:
            return False, "Fix the marked settings on the Model panel first."
        side = f" ({self.side} side)" if self.side != "both" else ""
        return True, f"{count} labelled images{side}"

    def request(self) -> RunRequest:
        """The run request Start trains and the queue lines up; UserError with the reason when not ready."""
        ready, reason = self.readiness()
        if not ready:
            raise UserError(reason)
        config = self.config.updated(name=self.run_name or None)
        return RunRequest(config, list(self.sources), self.split, self.seed, dict(self.class_map))

    def start(self, engine) -> str:
        """Start the run now; returns its id (the engine builds its dataset with progress and Stop)."""
        return engine.start(self.request())

    def enqueue(self, job_queue=None):
        """Line the run up at the end of the queue; returns the job."""
        from cardgrader.training.job_queue import JobQueue

        request = self.request()
        return (job_queue or JobQueue()).add(request, name=request.config.name)

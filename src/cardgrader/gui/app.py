"""The main window: a CustomTkinter root with tkdnd drag and drop, a sidebar of panels, a status line.

Only this package imports Tk. Widgets are touched on the main thread only: the engine's events arrive
through `EngineBridge` (a queue drained with after()), background jobs through `BackgroundTask`.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import sys
import threading
import time
import tkinter
from pathlib import Path

import customtkinter as ctk

# Imported here, on the main thread, before any worker starts. A worker's first `import psutil` (the engine's
# resource check) holds psutil's import lock; if the garbage collector then runs on that worker and frees an
# image, Tk makes the worker wait for the main thread, and a main-thread `import psutil` in the meantime
# waits for the worker's lock: the window froze that way (seen in a demo run).
import psutil

from cardgrader import errors, paths
from cardgrader.errors import UserError
from cardgrader.gui import theme, tk_finalizers
from cardgrader.gui.bridge import EngineBridge
from cardgrader.gui.settings import Settings
from cardgrader.gui.tasks import BackgroundTask
from cardgrader.workstation import Workstation
from cardgrader.workstation.model import describe

log = logging.getLogger("cardgrader.gui")
PANELS = (("data", "Data"), ("model", "Model"), ("train", "Train"), ("queue", "Queue"), ("runs", "Runs"),
          ("models", "Models"),
          ("predict", "Predict"), ("grade", "Grade"), ("photometric", "Photometric"), ("settings", "Settings"))
MESSAGE_SECONDS = 10
STARTUP_DELAY_MS = 150  # after the first map: time for the first frame to be drawn
STARTUP_FALLBACK_MS = 2000  # a window that is never mapped (withdrawn) still gets its panels and engine
DEMO_FALLBACK_MS = 5000

try:
    from tkinterdnd2 import TkinterDnD

    _DND_BASE = TkinterDnD.DnDWrapper
except Exception:  # noqa: BLE001 - the app works without drag and drop (Browse buttons remain)
    TkinterDnD = None
    _DND_BASE = object


class MainWindow(ctk.CTk, _DND_BASE):
    def __init__(self, settings: Settings | None = None, first_panel: str | None = None):
        self.settings = settings or Settings()
        self.workstation = Workstation()  # the session's state; the panels are views of it
        tk_finalizers.install()  # Tk objects the GC frees on a worker are deleted on this thread
        ctk.set_appearance_mode(self.settings.get("theme"))
        ctk.set_default_color_theme("blue")
        theme.apply_palette()  # its text at WCAG AA contrast in both appearances
        super().__init__()
        tk_finalizers.keep_draining(self)
        self.dnd_version = None
        if TkinterDnD is not None:
            try:
                self.dnd_version = TkinterDnD._require(self)
            except Exception as exc:  # noqa: BLE001
                log.warning("drag and drop unavailable: %s", exc)
        self.title("cardgrader — train and check card-grading models")
        self._set_icon()
        self.geometry(self.settings.get("geometry"))
        self.minsize(1100, 720)
        self.report_callback_exception = self._callback_failed
        self.bridge = EngineBridge(self)
        self._listeners_before_engine: list = []
        self._message_job = None
        self._gpu_text: str | None = None
        self.last_message: tuple[str, str] = ("", "info")
        self.probe = None
        self.starting: BackgroundTask | None = None  # Start was pressed; the engine is creating the run
        self.queue_runner = None  # training.job_queue.QueueRunner while the app works through the queue
        self.started = False
        self.run_timings: list = []  # estimate.RunTiming of finished runs, newest first
        self._timing_cache: dict = {}
        self._timings_task: BackgroundTask | None = None
        self._timings_stale = False

        self.grid_columnconfigure(1, weight=1)
        self.grid_rowconfigure(0, weight=1)
        self._build_sidebar()
        self.content = ctk.CTkFrame(self, fg_color="transparent")
        self.content.grid(row=0, column=1, sticky="nsew", padx=(6, 12), pady=(12, 4))
        self.content.grid_columnconfigure(0, weight=1)
        self.content.grid_rowconfigure(0, weight=1)
        self.status_line = ctk.CTkLabel(self, text="", anchor="w", font=theme.font(12), height=24)
        self.status_line.grid(row=1, column=1, sticky="ew", padx=18, pady=(0, 8))

        self.panels: dict = {}
        first = first_panel or self.settings.get("last_panel")
        self.show_panel(first if first in dict(PANELS) else "data")
        self.protocol("WM_DELETE_WINDOW", self.on_close)
        # The rest waits until the window has shown (a fixed timer could fire before the first map when
        # building the first panel ran long, and then the window would wait for every other panel).
        self._startup_jobs = [self.after(STARTUP_FALLBACK_MS, self._after_startup)]
        self.bind("<Map>", self._first_map, add="+")

    def _set_icon(self) -> None:
        """The app icon in the title bar and task switcher (assets/cardgrader.png, bundled with the app)."""
        icon = paths.assets_dir() / "cardgrader.png"
        try:
            self._icon = tkinter.PhotoImage(master=self, file=str(icon))
            self.iconphoto(True, self._icon)
        except tkinter.TclError as exc:
            log.warning("no window icon (%s): %s", icon, exc)

    # ---- layout --------------------------------------------------------------------------------------
    def _build_sidebar(self) -> None:
        bar = ctk.CTkFrame(self, width=190, corner_radius=0, fg_color=theme.SURFACE)
        bar.grid(row=0, column=0, rowspan=2, sticky="nsw")
        bar.grid_propagate(False)
        ctk.CTkLabel(bar, text="cardgrader", font=theme.font(22, "bold")).grid(row=0, column=0, padx=20, pady=(22, 2), sticky="w")
        ctk.CTkLabel(bar, text="train · check · grade", text_color=theme.MUTED, font=theme.font(12)).grid(
            row=1, column=0, padx=20, pady=(0, 18), sticky="w")
        self.nav_buttons = {}
        for index, (key, label) in enumerate(PANELS, start=2):
            button = ctk.CTkButton(bar, text=label, anchor="w", width=160, height=36, corner_radius=8,
                                   font=theme.font(14), fg_color="transparent", text_color=("gray10", "gray90"),
                                   hover_color=("gray80", "gray25"), command=lambda k=key: self.show_panel(k))
            button.grid(row=index, column=0, padx=14, pady=3, sticky="w")
            self.nav_buttons[key] = button
        bar.grid_rowconfigure(len(PANELS) + 2, weight=1)
        self.run_badge = ctk.CTkLabel(bar, text="", text_color=theme.MUTED, font=theme.font(12), wraplength=160,
                                      justify="left")
        self.run_badge.grid(row=len(PANELS) + 3, column=0, padx=18, pady=14, sticky="sw")

    # Panels are built when first needed: only the visible one before the window first shows.
    def panel(self, key: str):
        if key not in self.panels:
            # Panel `key` is the class <Key>Panel in gui/panels/<key>.py; only its module is imported, so
            # the other panels' imports stay off the start-up path.
            module = importlib.import_module(f"cardgrader.gui.panels.{key}")
            factory = getattr(module, f"{key.capitalize()}Panel")
            self.panels[key] = factory(self.content, self)
            if key == "model":
                self.panels[key].on_change(self.refresh_start_state)
            elif key == "data":
                self.panels[key].on_change(self.refresh_start_state)
        return self.panels[key]

    data_panel = property(lambda self: self.panel("data"))
    model_panel = property(lambda self: self.panel("model"))
    train_panel = property(lambda self: self.panel("train"))
    runs_panel = property(lambda self: self.panel("runs"))

    def show_panel(self, key: str) -> None:
        self.panel(key)
        for name, panel in self.panels.items():
            if name == key:
                panel.grid(row=0, column=0, sticky="nsew")
            else:
                panel.grid_remove()
        for name, button in self.nav_buttons.items():
            button.configure(fg_color=theme.BUTTON if name == key else "transparent",
                             hover_color=theme.BUTTON_HOVER if name == key else ("gray80", "gray25"),
                             text_color=("white", "white") if name == key else ("gray10", "gray90"))
        self.current_panel = key
        self.settings.set("last_panel", key)
        if key == "runs" and self.started:
            self.runs_panel.refresh()
        if key == "photometric" and self.started:
            self.panels["photometric"].refresh_models()
        if key == "train" and self.started:
            self.train_panel.ensure_charts()
            self._load_run_timings()  # runs trained elsewhere (the CLI, a queue runner) count in the estimate too

    def _first_map(self, _event=None) -> None:
        if not self.started and len(self._startup_jobs) == 1:
            self._startup_jobs.append(self.after(STARTUP_DELAY_MS, self._after_startup))

    def _after_startup(self) -> None:
        """Work that must not delay the first window: the other panels, the engine, the charts."""
        if self.started:
            return
        for job in self._startup_jobs:
            self.after_cancel(job)
        self.started = True
        for key, _label in PANELS:
            panel = self.panel(key)
            if hasattr(panel, "finish_building"):  # parts a panel left out of the first frame
                panel.finish_building()
        self.bridge.engine  # noqa: B018 - creates the engine and starts draining its events
        self.bridge_listen(self._run_ended)
        self._load_run_timings()
        self.train_panel.ensure_charts()
        self.data_panel.restore_last_session()
        self._show_latest_resumable()
        if self.current_panel == "runs":
            self.runs_panel.refresh()
        self.refresh_start_state()
        if shutil.which("nvidia-smi"):
            threading.Thread(target=self._read_gpu_forever, name="gpu-readings", daemon=True).start()

    def _show_latest_resumable(self) -> None:
        """The Train panel shows the latest run that can be resumed (a restart forgets nothing)."""
        if self.bridge.active_run is not None:
            return
        from cardgrader.training.store import RESUMABLE

        runs = [r for r in self.bridge.store.list() if r.status in RESUMABLE]
        if runs:
            self.train_panel.show_resumable(max(runs, key=lambda r: r.ended or r.started or 0))

    # ---- services for the panels ----------------------------------------------------------------------
    def bridge_listen(self, callback) -> None:
        self.bridge.listen(self._guarded(callback))

    def _guarded(self, callback):
        def call(event: dict) -> None:
            try:
                callback(event)
            except Exception as exc:  # noqa: BLE001 - one panel's bug must not stop the others hearing events
                self.report_error(exc)
        return call

    def show_message(self, text: str, level: str = "info") -> None:
        self.last_message = (text, level)
        color = theme.SEVERITY.get(level, theme.MUTED) if level != "info" else theme.MUTED
        self.status_line.configure(text=text, text_color=color)
        if self._message_job is not None:
            self.after_cancel(self._message_job)
        self._message_job = self.after(MESSAGE_SECONDS * 1000, lambda: self.status_line.configure(text=""))

    def confirm(self, title: str, message: str, yes: str = "Yes", still_needed=None) -> bool:
        from cardgrader.gui.dialogs import ask

        return ask(self, title, message, yes=yes, still_needed=still_needed)

    def report_error(self, exc: BaseException, level: str = "error") -> str:
        """Show `exc` as one sentence on the status line and return it (`errors.sentence`); the traceback
        of anything but a UserError goes to logs/gui.log, which the sentence names."""
        unexpected = not isinstance(exc, UserError)
        log = errors.log_traceback(exc, "gui.log", time.strftime("%Y-%m-%d %H:%M:%S")) if unexpected else None
        text = errors.sentence(exc, log)
        self.show_message(text, level)
        return text

    def _callback_failed(self, _exc_type, exc, _tb) -> None:
        """Tk's report_callback_exception: a callback that raised (a BackgroundTask's too)."""
        self.report_error(exc)

    def gpu_reading(self) -> str | None:
        return self._gpu_text

    def _read_gpu_forever(self) -> None:
        from cardgrader.gui.panels.train import gpu_memory_line

        while True:
            self._gpu_text = gpu_memory_line()
            time.sleep(2.0)

    def apply_theme(self, mode: str) -> None:
        ctk.set_appearance_mode(mode)
        for panel in self.panels.values():
            if hasattr(panel, "apply_theme"):
                panel.apply_theme()

    # ---- training ------------------------------------------------------------------------------------
    def training_active(self) -> bool:
        return self.starting is not None or self.queue_running() or self.bridge.active_run is not None

    def refresh_start_state(self) -> None:
        if not self.started:
            return
        data_ok, data_reason = self.data_panel.readiness()
        config = self.model_panel.config
        if not data_ok:
            ready, reason = False, data_reason
        elif config is None:
            ready, reason = False, "Fix the marked settings on the Model panel first."
        else:
            ready, reason = True, f"Ready: {data_reason}; {describe(config)}"
        if self.bridge.active_run is not None and self.train_panel.run_id == self.bridge.active_run:
            ready, reason = False, "Training (Stop ends it; it stays resumable)."
        elif self.starting is not None:
            ready, reason = False, "Starting the run…"
        elif self.queue_running():
            ready, reason = False, "The queue is training (see the Queue panel); add more with “Add to queue”."
        self.train_panel.set_ready(ready, reason)
        self.train_panel.set_estimate(self._estimate(config) if data_ok and config is not None else None)
        self.run_badge.configure(text="● training" if self.bridge.active_run else "")

    # ---- how long a run should take ---------------------------------------------------------------------
    def _estimate(self, config):
        """The planned run's expected duration from the finished runs' timings (read off the main thread
        into `run_timings`; this is arithmetic only)."""
        from cardgrader.training.estimate import estimate

        train, val = self.data_panel.planned_images()
        return estimate(config, train, val, self.run_timings, self.model_panel.devices())

    def _load_run_timings(self) -> None:
        """Read the finished runs' timings on a worker; one read at a time, and a request that comes
        while one runs is served by reading again once it ends."""
        from cardgrader.training.estimate import history

        if self._timings_task is not None:
            self._timings_stale = True
            return
        self._timings_stale = False
        cache = self._timing_cache  # run id → timing: finished runs do not change

        def loaded(timings) -> None:
            self._timings_task = None
            self.run_timings = timings
            if self._timings_stale:
                self._load_run_timings()
            self.refresh_start_state()

        def failed(exc, _trace) -> None:  # no history: the estimate stays a rough one
            self._timings_task = None
            log.warning("could not read the runs' timings: %s", exc)

        self._timings_task = BackgroundTask(self, lambda _r, _c: history(cache=cache), on_done=loaded,
                                            on_error=failed).start()

    def _run_ended(self, event: dict) -> None:
        from cardgrader.training import events

        if event["type"] in events.TERMINAL:
            self._load_run_timings()

    def start_training(self) -> None:
        """Hand the engine a run request; the run builds its dataset itself (Stop works throughout)."""
        request = self._chosen_request()
        if request is None:
            return
        if self.queue_running():
            self.show_message("The queue is training; add this training to the queue, or stop the queue first.",
                              "error")
            return
        engine = self.bridge.engine
        if self.probe is not None:
            self.probe.start()

        def started(run_id: str) -> None:
            stopped = self.starting is not None and self.starting.cancel_event.is_set()
            self.starting = None
            self.train_panel.begin(run_id)
            if stopped:  # Stop came while the run was being created: stop it now
                self.train_panel.stop()
            self.refresh_start_state()
            self.runs_panel.refresh()
            typed, named = request.config.name, self.bridge.store.get(run_id).name
            if typed and named != typed:  # the store keeps names unique, as Rename does: said, not silent
                self.show_message(f"A run is already named '{typed}', so this one is '{named}'; rename it on the "
                                  "Runs panel.", "warning")

        def failed(exc: BaseException, _trace: str) -> None:
            self.starting = None
            if self.probe is not None:
                self.probe.stop()
            self.train_panel.not_started()
            self.train_panel.add_log("error", self.report_error(exc))
            self.refresh_start_state()

        self.train_panel.starting()
        # the engine's checks read the sources' folder listings and the weights: off the main thread
        self.starting = BackgroundTask(self, lambda _report, _cancel: engine.start(request), on_done=started,
                                       on_error=failed).start()
        self.refresh_start_state()
        self.show_panel("train")

    # ---- the queue -------------------------------------------------------------------------------------
    def _chosen_request(self):
        """The run request the Data and Model panels describe now (None, with a message, if incomplete)."""
        config = self.model_panel.validate()  # a value typed a moment ago counts
        ready, reason = self.data_panel.readiness()
        if config is None or not ready:
            self.show_message(reason if not ready else "Fix the marked settings on the Model panel first.", "error")
            return None
        try:
            return self.workstation.request()
        except UserError as exc:
            self.report_error(exc)
            return None

    def enqueue(self) -> None:
        """Add what Start would train to the end of the queue."""
        from cardgrader.training.job_queue import JobQueue

        request = self._chosen_request()
        if request is None:
            return
        try:
            job = JobQueue().add(request, name=request.config.name)  # the workstation's request, lined up
        except UserError as exc:
            self.report_error(exc)
            return
        self.panel("queue").added(job)
        self.show_message(f"Queued '{job.name}'. The Queue panel runs the queue.", "info")

    def queue_running(self) -> bool:
        return self.queue_runner is not None and self.queue_runner.running

    def run_queue(self) -> None:
        """Work through the queue with this window's engine, one training at a time."""
        from cardgrader.training.job_queue import QueueRunner

        if self.queue_running():
            return
        if self.training_active():
            self.show_message("A model is training; the queue can start when it has finished.", "error")
            return
        runner = QueueRunner(self.bridge.engine)
        try:
            runner.start()
        except UserError as exc:
            self.report_error(exc)
            return
        self.queue_runner = runner
        if self.probe is not None:
            self.probe.start()
        self.refresh_start_state()

    def stop_queue(self) -> None:
        if self.queue_running():
            self.queue_runner.stop()
            self.show_message("Stopping the queue: the run under way stays resumable and its job first.")

    def check_queue_runner(self) -> None:
        """Called every second: say how a finished runner ended."""
        runner = self.queue_runner
        if runner is None or runner.running:
            return
        self.queue_runner = None
        if runner.error is not None:
            self.report_error(runner.error)
        elif runner.counts is not None and not runner.stop_event.is_set():
            done = ", ".join(f"{n} {status}" for status, n in runner.counts.items() if n) or "nothing to train"
            self.show_message(f"The queue is done: {done}.", "info")
        self.refresh_start_state()

    def change_data_folder(self, folder: str | None) -> bool:
        """Use another data folder now (None: the default): runs, models, datasets, the lock, logs and these
        settings all follow. Refused while a run trains or starts, and when CARDGRADER_HOME decides."""
        variable = paths.home_from_environment()
        if variable:
            self.show_message(f"The data folder is set by the CARDGRADER_HOME environment variable ({variable}); "
                              "unset it to choose the folder here.", "error")
            return False
        if self.training_active() or self.queue_running():
            self.show_message("A model is training: stop it or let it finish before changing the data folder "
                              "(its run must stay in the folder it writes to).", "error")
            return False
        target = Path(folder).expanduser() if folder else None
        if target is not None:
            try:
                target.mkdir(parents=True, exist_ok=True)
                probe = target / ".cardgrader-write-test"
                probe.write_text("")
                probe.unlink()
            except OSError as exc:
                self.show_message(f"The folder {target} cannot be used as the data folder: {exc.strerror or exc}.",
                                  "error")
                return False
        paths.choose_home(target)
        self.bridge.reset()  # the next run, its store and its lock live in the new folder
        self.settings.path = paths.settings_file()
        self.settings.save()  # these settings go with the app to the new folder
        self.panel("settings").show_home()
        self.runs_panel.refresh()
        self.panel("queue").refresh()
        self.panel("models").refresh()
        for key in ("predict", "grade", "photometric"):
            if key in self.panels:
                self.panels[key].refresh_models()
        self._load_run_timings()
        self.refresh_start_state()
        self.show_message(f"The data folder is now {paths.home()}.", "info")
        return True

    def resume_run(self, run_id: str) -> None:
        try:
            self.bridge.engine.resume(run_id)
        except UserError as exc:
            self.report_error(exc)
            return
        if self.probe is not None:
            self.probe.start()
        self.train_panel.begin(run_id, history=self.bridge.store.events(run_id))
        self.refresh_start_state()
        self.show_panel("train")

    # ---- closing -------------------------------------------------------------------------------------
    def on_close(self) -> None:
        if self.training_active():
            if not self.confirm("Training in progress", "A model is training. Stop it and close the app? "
                                "The run keeps its last checkpoint and can be resumed later.", yes="Stop and close",
                                still_needed=self.training_active):  # the run ending closes the question
                return
            self.show_message("Stopping the run…")
            self.update_idletasks()
        self.settings.set("geometry", self.geometry())
        if self.starting is not None:
            self.starting.cancel()  # a run created after this is stopped by the shutdown below
        if self.queue_running():
            self.queue_runner.stop()  # its run is cancelled below; the job stays first, resumable
        self.bridge.shutdown()
        if self.queue_runner is not None:
            self.queue_runner.join(timeout=10)
        self.destroy()


def run(demo: bool = False, stats: str | None = None, screenshot: str | None = None,
        exit_after_train: bool = False) -> int:
    """Start the app; with `demo`, train a tiny model on sample cards through the real panels."""
    from cardgrader.gui.stats import ResponsivenessProbe

    launched = _process_start_time()
    sys.setswitchinterval(0.001)  # hand the GIL back to the Tk thread promptly when a worker holds it
    try:
        window = MainWindow(first_panel="data" if demo else None)  # the demo begins on the Data panel
    except tkinter.TclError as exc:
        raise UserError(f"The app needs a graphical display and found none ({exc}). On a server, use the "
                        "command line (cardgrader --help), or run the app under xvfb-run.") from None
    measure: dict = {}
    begin_demo = None
    if demo:
        from cardgrader.gui.demo import Demo

        begin_demo = Demo(window, measure, stats_path=stats, screenshot_path=screenshot,
                          exit_after=exit_after_train).begin

    def first_map(_event=None) -> None:
        if "startup_seconds" not in measure:
            measure["startup_seconds"] = round(time.time() - launched, 3)
            if begin_demo is not None:  # the demo's own work (drawing cards) is no part of the app's start
                window.after(1, begin_demo)

    window.bind("<Map>", first_map, add="+")
    if begin_demo is not None:
        window.after(DEMO_FALLBACK_MS, begin_demo)  # for a window that is never mapped (begin runs once)
    if demo or stats:
        window.probe = ResponsivenessProbe(window)
    window.mainloop()
    return 0 if measure.get("run_status", "finished") == "finished" else 1


def _process_start_time() -> float:
    """When this process was created (the clock start-up is measured from), on the wall clock.

    On Linux from the process's start in clock ticks since boot and the boot-time clock: psutil's
    create_time() adds that to /proc/stat's boot time, which is whole seconds, so its figure is off by up
    to a second, by a different amount on every boot."""
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
        since_start = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
        return time.time() - since_start
    except (OSError, ValueError, IndexError, AttributeError):  # not Linux
        pass
    try:
        return psutil.Process().create_time()
    except Exception:  # noqa: BLE001
        return time.time()


def open_and_close(timeout: float = 20.0) -> str:
    """Open the main window, wait until it is on screen, and close it as the user would (the self-test)."""
    start = time.perf_counter()
    window = MainWindow()
    mapped: list[float] = []
    window.bind("<Map>", lambda _e: mapped.append(time.perf_counter() - start) if not mapped else None, add="+")
    deadline = time.monotonic() + timeout
    while not mapped and time.monotonic() < deadline:
        window.update()
        time.sleep(0.01)
    panels, dnd = len(PANELS), window.dnd_version
    window.on_close()
    if not mapped:
        raise RuntimeError(f"the window did not appear within {timeout:.0f} s")
    return (f"window shown after {mapped[0]:.2f} s with {panels} panels, drag and drop "
            f"{'tkdnd ' + str(dnd) if dnd else 'unavailable'}; closed")

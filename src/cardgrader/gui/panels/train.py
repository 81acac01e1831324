"""The Train panel: Start / Stop / Resume, a batch-granular progress bar with ETA, live loss and metric
charts, the run's log with a level filter and search, and CPU / memory / GPU readings."""

from __future__ import annotations

import shutil
import subprocess
import time

import customtkinter as ctk
import psutil

from cardgrader.gui import theme
from cardgrader.gui.widgets import show_progress
from cardgrader.training import events
from cardgrader.training.progress import RunProgress, fmt

LEVELS = {"All": 0, "Info": 1, "Warnings": 2, "Errors": 3}
LEVEL_RANK = {"debug": 0, "info": 1, "warning": 2, "error": 3}
MAX_LOG_LINES = 3000
READINGS_MS = 2000


class TrainPanel(ctk.CTkFrame):
    def __init__(self, master, app):
        super().__init__(master, fg_color="transparent")
        self.app = app
        self.run_id: str | None = None
        self.awaiting_run = False
        self.progress = RunProgress()
        self.log_lines: list[tuple[str, float, str]] = []  # (level, when written, text): the followed run's log
        self._pending_log: list[tuple[str, float, str]] = []
        self.grid_columnconfigure(0, weight=1)
        self.grid_rowconfigure(3, weight=3)
        self.grid_rowconfigure(4, weight=2)

        # Fixed heights: a status text that changes length must never resize the charts below (every
        # resize is a full chart redraw on the main thread).
        header = ctk.CTkFrame(self, fg_color="transparent", height=88)
        header.grid(row=0, column=0, sticky="ew", padx=6, pady=(4, 6))
        header.grid_propagate(False)
        header.grid_columnconfigure(1, weight=1)
        ctk.CTkLabel(header, text="Train", font=theme.font(22, "bold")).grid(row=0, column=0, sticky="w")
        self.estimate = None  # training.estimate.Estimate of the run Start would begin
        self.name_entry = ctk.CTkEntry(header, width=220, placeholder_text="run name (optional)")
        self.name_entry.grid(row=0, column=2, padx=(0, 8))
        self.name_entry.bind("<KeyRelease>", lambda _e: self.app.workstation.set_run_name(self.name_entry.get()))
        self.start_button = ctk.CTkButton(header, text="Start", width=96, command=self.app.start_training,
                                          **theme.GO)
        self.start_button.grid(row=0, column=3, padx=4)
        self.stop_button = ctk.CTkButton(header, text="Stop", width=96, command=self.stop, state="disabled",
                                         **theme.DANGER)
        self.stop_button.grid(row=0, column=4, padx=4)
        self.resume_button = ctk.CTkButton(header, text="Resume", width=96, command=self.resume, state="disabled")
        self.resume_button.grid(row=0, column=5, padx=4)
        self.queue_button = ctk.CTkButton(header, text="Add to queue", width=110, command=self.app.enqueue)
        self.queue_button.grid(row=0, column=6, padx=(4, 0))
        self.ready_label = ctk.CTkLabel(header, text="", anchor="nw", text_color=theme.MUTED, font=theme.font(12),
                                        wraplength=1000, justify="left", height=30)
        self.ready_label.grid(row=2, column=0, columnspan=7, sticky="ew")
        self.estimate_label = ctk.CTkLabel(header, text="", anchor="w", font=theme.font(13), height=20)
        self.estimate_label.grid(row=1, column=0, columnspan=7, sticky="ew", pady=(6, 0))

        bar = ctk.CTkFrame(self, fg_color=theme.CARD, corner_radius=10, height=98)
        bar.grid(row=1, column=0, sticky="ew", padx=6, pady=4)
        bar.grid_propagate(False)
        bar.grid_columnconfigure(0, weight=1)
        self.status = ctk.CTkLabel(bar, text="No run yet", anchor="w", font=theme.font(14, "bold"))
        self.status.grid(row=0, column=0, sticky="ew", padx=14, pady=(10, 2))
        self.readings = ctk.CTkLabel(bar, text="", anchor="e", text_color=theme.MUTED, font=theme.font(12))
        self.readings.grid(row=0, column=1, sticky="e", padx=14, pady=(10, 2))
        self.bar = ctk.CTkProgressBar(bar, mode="determinate", height=14)
        show_progress(self.bar, 0.0)
        self.bar.grid(row=1, column=0, columnspan=2, sticky="ew", padx=14, pady=(2, 4))
        self.detail = ctk.CTkLabel(bar, text="", anchor="w", text_color=theme.MUTED, font=theme.font(12))
        self.detail.grid(row=2, column=0, columnspan=2, sticky="ew", padx=14, pady=(0, 10))

        self.charts_holder = ctk.CTkFrame(self, fg_color=theme.CARD, corner_radius=10)
        self.charts_holder.grid(row=3, column=0, sticky="nsew", padx=6, pady=4)
        self.charts_holder.grid_columnconfigure(0, weight=1)
        self.charts_holder.grid_rowconfigure(0, weight=1)
        self.charts = None  # built after the window is up: matplotlib stays off the start-up path

        logs = ctk.CTkFrame(self, fg_color=theme.CARD, corner_radius=10)
        logs.grid(row=4, column=0, sticky="nsew", padx=6, pady=(4, 6))
        logs.grid_columnconfigure(2, weight=1)
        logs.grid_rowconfigure(1, weight=1)
        ctk.CTkLabel(logs, text="Log", font=theme.font(14, "bold")).grid(row=0, column=0, padx=(14, 8), pady=(8, 4))
        self.level = ctk.CTkSegmentedButton(logs, values=list(LEVELS), command=lambda _v: self._refilter())
        self.level.set("Info")
        self.level.grid(row=0, column=1, pady=(8, 4))
        self.search = ctk.CTkEntry(logs, placeholder_text="search the log", width=220)
        self.search.grid(row=0, column=3, padx=14, pady=(8, 4), sticky="e")
        self.search.bind("<KeyRelease>", lambda _e: self._refilter())
        self.log = ctk.CTkTextbox(logs, height=140, font=theme.mono_font(12), wrap="word")  # long lines wrap
        self.log.grid(row=1, column=0, columnspan=4, sticky="nsew", padx=10, pady=(0, 10))
        self.log.configure(state="disabled")
        for level, color in (("warning", theme.SEVERITY["warning"]), ("error", theme.SEVERITY["error"])):
            self.log.tag_config(level, foreground=theme.pick(color))

        app.bridge_listen(self.on_event)
        self.after(READINGS_MS, self._update_readings)

    def ensure_charts(self):
        if self.charts is None:
            from cardgrader.gui.charts import TrainingCharts

            self.charts = TrainingCharts(self.charts_holder)
            self.charts.grid(row=0, column=0, sticky="nsew", padx=10, pady=10)
        return self.charts

    # ---- state ---------------------------------------------------------------------------------------
    def set_ready(self, ready: bool, reason: str) -> None:
        running = self.run_id is not None and self.progress.status is None
        self.start_button.configure(state="normal" if ready and not running else "disabled")
        self.ready_label.configure(text=reason, text_color=theme.MUTED if ready else theme.SEVERITY["warning"])

    def set_estimate(self, estimate) -> None:
        """How long the run Start would begin should take (None: nothing to judge yet). Hidden while a run
        or its preparation is under way: then the progress bar's ETA speaks."""
        self.estimate = estimate
        busy = self.awaiting_run or (self.run_id is not None and self.progress.status is None)
        self.estimate_label.configure(text=estimate.text() if estimate is not None and not busy else "")

    def starting(self) -> None:
        """Start was pressed: the previous run's figures go while the engine creates the run (Stop works)."""
        self.run_id = None
        self.awaiting_run = True  # the next run_started is ours, even if it comes before begin()
        self.progress = RunProgress()
        show_progress(self.bar, 0.0)
        self.detail.configure(text="")
        self.status.configure(text="Starting…", text_color=theme.ACCENT)
        self.start_button.configure(state="disabled")
        self.stop_button.configure(state="normal")

    def not_started(self) -> None:
        """The engine refused the run (its reason is shown and logged): no run exists."""
        self.awaiting_run = False
        self.stop_button.configure(state="disabled")
        self.status.configure(text="Not started", text_color=theme.SEVERITY["error"])

    def begin(self, run_id: str, history: list[dict] | None = None) -> None:
        """Follow a run that was just started or resumed (history: its events so far, for the chart)."""
        self.awaiting_run = False
        if run_id == self.run_id and history is None:
            return  # already following it: its run_started arrived first
        self.run_id = run_id
        self.progress = RunProgress()
        self._clear_log()  # each run has its own log: the lines of its events so far, with their own times
        for event in history or ():
            if event.get("type") == events.LOG:
                self._pending_log.append(self._log_entry(event))
        self._flush_log()
        charts = self.ensure_charts()
        if history:
            charts.load_history(history)
        else:
            charts.reset()
        self.stop_button.configure(state="normal")
        self.resume_button.configure(state="disabled")
        self.start_button.configure(state="disabled")
        self.status.configure(text="Starting…", text_color=theme.ACCENT)

    def show_resumable(self, record) -> None:
        """After a restart: the latest run that can be resumed, with Resume (and its log so far)."""
        if self.run_id is not None:
            return
        self.run_id = record.id
        self.progress = RunProgress()
        self._clear_log()
        history = self.app.bridge.store.events(record.id)
        for event in history:
            self.progress.update(event)
            if event.get("type") == events.LOG:
                self._pending_log.append(self._log_entry(event))
        self._flush_log()
        if self.progress.status is None:  # an interrupted run has no terminal event: it is not running either
            self.progress.status = record.status
        self.ensure_charts().load_history(history)
        how = {"cancelled": "was stopped", "failed": "failed", "interrupted": "was interrupted (the app closed)"}
        self.status.configure(text=f"Last run '{record.name}' {how.get(record.status, record.status)} after "
                                   f"{record.epochs_done} of {record.epochs} epochs; Resume continues it",
                              text_color=theme.SEVERITY["warning"])
        self.resume_button.configure(state="normal")
        self.stop_button.configure(state="disabled")

    def stop(self) -> None:
        if self.run_id:
            self.app.bridge.engine.cancel(self.run_id)
            self.status.configure(text="Stopping… the run stays resumable")
        elif self.app.starting is not None:
            self.app.starting.cancel()  # the run is stopped as soon as it exists
            self.status.configure(text="Stopping…")
        self.stop_button.configure(state="disabled")

    def resume(self) -> None:
        if self.run_id:
            self.app.resume_run(self.run_id)

    # ---- events --------------------------------------------------------------------------------------
    def on_event(self, event: dict) -> None:
        if event["type"] == events.RUN_STARTED and event.get("run") != self.run_id and (
                (self.awaiting_run and self.run_id is None) or self.app.queue_running()):
            resumed = bool(event.get("resumed_from_epoch"))  # a queued job resumed: its chart so far
            self.begin(event["run"], history=self.app.bridge.store.events(event["run"]) if resumed else None)
        if event.get("run") != self.run_id:
            return
        kind = event["type"]
        self.progress.update(event)
        if kind == events.LOG:
            self._pending_log.append(self._log_entry(event))
            if not self.progress.batches and self.progress.status is None:  # before training: the dataset's steps
                self.detail.configure(text=event.get("message", "")[:160])
        elif kind in (events.BATCH, events.EPOCH, events.RUN_STARTED):
            self.ensure_charts().add_event(event)
            self.charts.redraw()
        elif kind in events.TERMINAL:
            self._finished(event)
        self._show_progress()
        if self._pending_log:
            self.after_idle(self._flush_log)

    def _show_progress(self) -> None:
        p = self.progress
        show_progress(self.bar, p.fraction)
        if p.status is None:
            self.status.configure(text=p.text(), text_color=theme.ACCENT)
            losses = "  ".join(f"{k.replace('_loss', '')} {fmt(v)}" for k, v in p.losses.items())
            metrics = "  ".join(f"{k} {fmt(v)}" for k, v in p.metrics.items() if k in events.METRIC_KEYS)
            self.detail.configure(text="   ".join(x for x in (f"losses  {losses}" if losses else "",
                                                               f"last val  {metrics}" if metrics else "") if x))

    def _finished(self, event: dict) -> None:
        kind = event["type"]
        color = {events.FINISHED: theme.OK, events.CANCELLED: theme.SEVERITY["warning"],
                 events.FAILED: theme.SEVERITY["error"]}[kind]
        self.status.configure(text=self.progress.text(), text_color=color)
        metrics = event.get("metrics") or {}
        if kind == events.FINISHED and metrics:
            self.detail.configure(text="best model  " + "  ".join(
                f"{k} {fmt(v)}" for k, v in metrics.items() if k in events.METRIC_KEYS))
        self.stop_button.configure(state="disabled")
        self.resume_button.configure(state="normal" if kind != events.FINISHED else "disabled")
        if self.charts:
            self.charts.redraw()
        self.app.refresh_start_state()

    # ---- log -----------------------------------------------------------------------------------------
    def add_log(self, level: str, message: str) -> None:
        self._pending_log.append((level, time.time(), message))
        self.after_idle(self._flush_log)

    @staticmethod
    def _log_entry(event: dict) -> tuple[str, float, str]:
        return event.get("level", "info"), float(event.get("time") or time.time()), event.get("message", "")

    def _clear_log(self) -> None:
        self.log_lines, self._pending_log = [], []
        self.log.configure(state="normal")
        self.log.delete("1.0", "end")
        self.log.configure(state="disabled")

    def _passes(self, level: str, text: str) -> bool:
        needle = self.search.get().strip().lower()
        return LEVEL_RANK.get(level, 1) >= LEVELS[self.level.get()] and (not needle or needle in text.lower())

    def _flush_log(self) -> None:
        if not self._pending_log:
            return
        pending, self._pending_log = self._pending_log, []
        self.log_lines.extend(pending)
        overflow = len(self.log_lines) - MAX_LOG_LINES
        if overflow > 0:
            del self.log_lines[:overflow]
        shown = [line for line in pending if self._passes(line[0], line[2])]
        if shown:
            self._insert(shown)

    def _insert(self, lines: list[tuple[str, float, str]]) -> None:
        self.log.configure(state="normal")
        for level, when, text in lines:
            stamp = time.strftime("%H:%M:%S", time.localtime(when))  # the time the line was written, kept
            tag = level if level in ("warning", "error") else ()
            for part in text.splitlines() or [""]:  # a multi-line message: every line carries its time
                self.log.insert("end", f"{stamp}  {part}\n", tag)
        if float(self.log.index("end")) > MAX_LOG_LINES + 200:
            self.log.delete("1.0", f"{float(self.log.index('end')) - MAX_LOG_LINES:.0f}.0")
        self.log.configure(state="disabled")
        self.log.see("end")

    def _refilter(self) -> None:
        self.log.configure(state="normal")
        self.log.delete("1.0", "end")
        self.log.configure(state="disabled")
        self._insert([line for line in self.log_lines if self._passes(line[0], line[2])])

    def visible_log(self) -> str:
        return self.log.get("1.0", "end")

    # ---- readings ------------------------------------------------------------------------------------
    def _update_readings(self) -> None:
        try:
            mem = psutil.virtual_memory()
            text = f"CPU {psutil.cpu_percent(interval=None):.0f}%   RAM {mem.used / 2**30:.1f}/{mem.total / 2**30:.1f} GiB"
            gpu = self.app.gpu_reading()
            if gpu:
                text += f"   {gpu}"
            self.readings.configure(text=text)
        finally:
            self.after(READINGS_MS, self._update_readings)

    def apply_theme(self) -> None:
        for level in ("warning", "error"):
            self.log.tag_config(level, foreground=theme.pick(theme.SEVERITY[level]))
        if self.charts:
            self.charts.apply_theme()


def gpu_memory_line() -> str | None:
    """`GPU 3.1/24.0 GiB` from nvidia-smi (no torch in the GUI process), or None without an NVIDIA GPU."""
    smi = shutil.which("nvidia-smi")
    if not smi:
        return None
    try:
        out = subprocess.run([smi, "--query-gpu=memory.used,memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=3).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    parts = []
    for i, line in enumerate(out.strip().splitlines()):
        try:
            used, total = (float(x) / 1024 for x in line.split(","))
        except ValueError:
            continue
        parts.append(f"GPU{i} {used:.1f}/{total:.1f} GiB")
    return "   ".join(parts) or None

"""The Queue panel: trainings lined up to run one after another (overnight), the same queue as
`cardgrader queue …`. Add what the Data and Model panels describe, reorder, remove, run, pause."""

from __future__ import annotations

import time

import customtkinter as ctk

from cardgrader.errors import UserError
from cardgrader.gui import theme
from cardgrader.gui.widgets import button_row, panel_header, table
from cardgrader.vocabulary import ARCH_LABELS, TASK_LABELS

COLUMNS = (("position", "#", 36), ("name", "Name", 220), ("task", "Task", 90), ("arch", "Architecture", 110),
           ("side", "Side", 60), ("epochs", "Epochs", 60), ("status", "Status", 130), ("note", "Run / error", 320))
POLL_MS = 1000


class QueuePanel(ctk.CTkFrame):
    def __init__(self, master, app):
        super().__init__(master, fg_color="transparent")
        self.app = app
        self.jobs = []
        self.grid_columnconfigure(0, weight=1)
        self.grid_rowconfigure(3, weight=1)
        panel_header(self, "Queue", "Trainings that run one after another, in this order — leave them overnight. "
                                    "The same queue as `cardgrader queue`.")

        self.buttons = button_row(self, 1, (
            ("add", "Add current setup", self.app.enqueue), ("run", "Run queue", self.toggle_run),
            ("pause", "Pause", self.toggle_pause), ("up", "Move up", lambda: self.move(-1)),
            ("down", "Move down", lambda: self.move(1)), ("remove", "Remove", self.remove),
            ("clear", "Clear finished", self.clear_done),
        ), width=96, widths={"add": 120, "clear": 120})
        self.status = ctk.CTkLabel(self, text="", anchor="w", font=theme.font(13), justify="left")
        self.status.grid(row=2, column=0, sticky="ew", padx=10, pady=(2, 4))

        self.table, _frame = table(self, 3, COLUMNS, stretch=("name", "note"))
        self.table.bind("<<TreeviewSelect>>", lambda _e: self._show_state())
        self.refresh()
        self.after(POLL_MS, self._poll)

    # ---- data ----------------------------------------------------------------------------------------
    def _queue(self):
        from cardgrader.training.job_queue import JobQueue

        return JobQueue()

    def refresh(self) -> None:
        try:
            job_queue = self._queue()
            self.jobs, self.paused = job_queue.jobs(), job_queue.paused
            runner = job_queue.runner()
        except UserError as exc:
            self.status.configure(text=str(exc), text_color=theme.SEVERITY["error"])
            return
        selected = self.table.selection()
        self.table.delete(*self.table.get_children())
        for position, job in enumerate(self.jobs, 1):
            config = job.request.get("config") or {}
            status = job.status
            if status == "running" and runner is None:
                status = "interrupted"
            elif status == "queued" and job.run:
                status = "queued (resumes)"
            note = job.error or (job.run or "")
            self.table.insert("", "end", iid=job.id, values=(
                position, job.name, TASK_LABELS.get(config.get("task"), config.get("task")),
                ARCH_LABELS.get(config.get("arch"), config.get("arch")), config.get("side"), config.get("epochs"),
                status, note))
        for iid in selected:
            if self.table.exists(iid):
                self.table.selection_set(iid)
        self._show_state(runner)

    def _poll(self) -> None:
        if self.winfo_ismapped() or self.app.queue_running():
            self.refresh()
        self.app.check_queue_runner()
        self.after(POLL_MS, self._poll)

    def selected(self):
        chosen = self.table.selection()
        return next((j for j in self.jobs if chosen and j.id == chosen[0]), None)

    def _show_state(self, runner=None) -> None:
        ours = self.app.queue_running()
        waiting = sum(j.status in ("queued", "running") for j in self.jobs)
        if ours:
            text, color = f"Running the queue: {waiting} job{'s' if waiting != 1 else ''} to go.", theme.ACCENT
        elif runner is not None:
            text, color = (f"The queue is being run by process {runner.get('pid')} ({runner.get('who', 'cardgrader')})."
                           , theme.MUTED)
        elif waiting:
            text, color = f"{waiting} job{'s' if waiting != 1 else ''} waiting. Press Run queue to train them in order.", \
                theme.MUTED
        else:
            text, color = "The queue is empty. Set up a training on the Data and Model panels, then Add current setup.", \
                theme.MUTED
        if self.paused:
            text += " Paused: the job under way finishes, no other starts."
        self.status.configure(text=text, text_color=color)
        self.buttons["run"].configure(text="Stop queue" if ours else "Run queue",
                                      state="normal" if ours or (waiting and runner is None) else "disabled")
        self.buttons["pause"].configure(text="Unpause" if self.paused else "Pause")
        job = self.selected()
        movable = job is not None and len(self.jobs) > 1
        for name in ("up", "down"):
            self.buttons[name].configure(state="normal" if movable else "disabled")
        busy = job is not None and job.status == "running" and (ours or runner is not None)
        self.buttons["remove"].configure(state="normal" if job is not None and not busy else "disabled")
        self.buttons["clear"].configure(state="normal" if any(j.status not in ("queued", "running")
                                                              for j in self.jobs) else "disabled")

    # ---- actions -------------------------------------------------------------------------------------
    def _act(self, action) -> None:
        try:
            action()
        except UserError as exc:
            self.app.report_error(exc)
        self.refresh()

    def move(self, step: int) -> None:
        job = self.selected()
        if job is None:
            return
        position = [j.id for j in self.jobs].index(job.id) + 1 + step
        if 1 <= position <= len(self.jobs):
            self._act(lambda: self._queue().move(job.id, position))

    def remove(self) -> None:
        job = self.selected()
        if job is not None:
            self._act(lambda: self._queue().remove(job.id))

    def clear_done(self) -> None:
        self._act(lambda: self._queue().clear_done())

    def toggle_pause(self) -> None:
        self._act(lambda: self._queue().set_paused(not self.paused))

    def toggle_run(self) -> None:
        if self.app.queue_running():
            self.app.stop_queue()
        else:
            self.app.run_queue()
        self.refresh()

    def added(self, job) -> None:
        self.refresh()
        if self.table.exists(job.id):
            self.table.selection_set(job.id)
            self.table.see(job.id)
        self.status.configure(text=f"Added '{job.name}' at position {len(self.jobs)} "
                                   f"({time.strftime('%H:%M')}).", text_color=theme.OK)

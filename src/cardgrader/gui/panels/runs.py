"""The Runs panel: every run from the run store, with rename, compare, resume, open folder and delete."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import customtkinter as ctk

from cardgrader.errors import UserError
from cardgrader.gui import theme
from cardgrader.gui.widgets import button_row, panel_header, shorten, table
from cardgrader.training import events
from cardgrader.training.progress import fmt, format_duration
from cardgrader.training.store import RESUMABLE
from cardgrader.vocabulary import ARCH_LABELS

COMPARE_ROW = 18 + 7 + 7 + 8 + 10  # characters in a row of the comparison table
COLUMNS = (("name", "Name", 210), ("task", "Task", 70), ("arch", "Architecture", 125), ("side", "Side", 50),
           ("status", "Status", 80), ("best", "mAP50-95", 90), ("epochs", "Epochs", 60),
           ("duration", "Duration", 90), ("date", "Started", 100))


def folder_opener() -> list[str] | None:
    """The command that shows a folder in the file manager here (None on Windows, which has os.startfile;
    [] where none is installed, as on a server or in a bare container without xdg-open)."""
    if sys.platform.startswith("win"):
        return None
    name = "open" if sys.platform == "darwin" else "xdg-open"
    found = shutil.which(name)
    return [found] if found else []


def open_folder(path: str) -> bool:
    """Show `path` in the file manager; False when there is none to start (the caller says where it is)."""
    opener = folder_opener()
    try:
        if opener is None:
            os.startfile(path)  # noqa: S606 - opening the user's own run folder
        elif not opener:
            return False
        else:
            subprocess.Popen([*opener, path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return False
    return True


class RunsPanel(ctk.CTkFrame):
    def __init__(self, master, app):
        super().__init__(master, fg_color="transparent")
        self.app = app
        self.records = {}
        self.grid_columnconfigure(0, weight=1)
        self.grid_rowconfigure(2, weight=1)
        self.grid_rowconfigure(3, weight=1)

        header = panel_header(self, "Runs", "Every training run on this computer. Select two or more to compare them.")
        header.grid_columnconfigure(0, weight=1)

        self.buttons = button_row(self, 1, (
            ("refresh", "Refresh", self.refresh), ("rename", "Rename…", self.rename),
            ("compare", "Compare", self.compare), ("resume", "Resume", self.resume),
            ("open", "Open folder", self.open), ("validate", "Check with PS…", self.validate),
            ("delete", "Delete…", self.delete),
        ), danger=("delete",))
        self.table, _frame = table(self, 2, COLUMNS, selectmode="extended")
        self.table.bind("<Configure>", lambda _e: self.after_idle(self._refit_names), add="+")
        self.table.bind("<<TreeviewSelect>>", lambda _e: self._selection_changed())
        self.table.bind("<Double-1>", lambda _e: self.show_selected())

        self.compare_area = ctk.CTkFrame(self, fg_color=theme.CARD, corner_radius=10)
        self.compare_area.grid(row=3, column=0, sticky="nsew", padx=6, pady=(0, 6))
        self.compare_area.grid_columnconfigure(0, weight=1)
        self.compare_area.grid_columnconfigure(1, weight=1)
        self.compare_area.grid_rowconfigure(0, weight=1)
        self.compare_hint = ctk.CTkLabel(self.compare_area, text="Select runs and press Compare to overlay their curves.",
                                         text_color=theme.MUTED)
        self.compare_hint.grid(row=0, column=0, columnspan=2, pady=20)
        self.compare_chart = None
        self.compare_table = None
        app.bridge_listen(self._on_event)
        self._selection_changed()

    # ---- data ----------------------------------------------------------------------------------------
    def _fit(self, name: str) -> str:
        """A run's name as its column shows it whole (a table cuts text without a mark)."""
        import tkinter.font

        return shorten(name, tkinter.font.Font(font=("TkDefaultFont", 10)), int(self.table.column("name", "width")) - 12)

    def _refit_names(self, _event=None) -> None:
        for run_id, record in self.records.items():
            if self.table.exists(run_id):
                self.table.set(run_id, "name", self._fit(record.name))

    def refresh(self) -> None:
        selected = set(self.table.selection())
        self.table.delete(*self.table.get_children())
        self.records = {r.id: r for r in self.app.bridge.store.list()}
        for r in self.records.values():
            best = fmt(r.best_mAP50_95)
            date = time.strftime("%m-%d %H:%M", time.localtime(r.started)) if r.started else "-"
            self.table.insert("", "end", iid=r.id, values=(
                self._fit(r.name), r.task, ARCH_LABELS.get(r.arch, r.arch), r.side, r.status, best,
                f"{r.epochs_done}/{r.epochs}", format_duration(r.duration), date))
        keep = [i for i in selected if i in self.records]
        if keep:
            self.table.selection_set(keep)
        self._selection_changed()

    def _on_event(self, event: dict) -> None:
        if event["type"] in (events.RUN_STARTED, events.EPOCH) + events.TERMINAL and self.winfo_ismapped():
            self.after(200, self.refresh)  # hidden, it refreshes when shown

    def selected(self) -> list:
        return [self.records[i] for i in self.table.selection() if i in self.records]

    def _selection_changed(self) -> None:
        chosen = self.selected()
        one = len(chosen) == 1
        self.buttons["rename"].configure(state="normal" if one else "disabled")
        self.buttons["open"].configure(state="normal" if one else "disabled")
        self.buttons["resume"].configure(state="normal" if one and chosen[0].status in RESUMABLE else "disabled")
        self.buttons["compare"].configure(state="normal" if chosen else "disabled")
        checkable = one and chosen[0].status == "finished" and self._ps_can_check(chosen[0])
        self.buttons["validate"].configure(state="normal" if checkable else "disabled")
        self.buttons["delete"].configure(state="normal" if chosen and all(r.status != "running" for r in chosen) else "disabled")

    def _ps_can_check(self, record) -> bool:
        """Photometric stereo checks surface, border (with an outer border), corners and edges models."""
        from cardgrader.photometric.validate import kind_of

        try:
            config = self.app.bridge.store.config(record.id)
            kind_of(config.task, config.class_names, record.name)
        except (UserError, OSError):
            return False
        return True

    # ---- actions -------------------------------------------------------------------------------------
    def rename(self) -> None:
        [record] = self.selected()
        store = self.app.bridge.store
        from cardgrader.gui.dialogs import ask_text

        name = ask_text(self.winfo_toplevel(), "Rename run", f"New name for '{record.name}':", initial=record.name,
                        ok="Rename")
        if not name or name == record.name:
            return
        try:
            store.rename(record.id, name)
        except UserError as exc:
            self.app.report_error(exc)
            return
        self.refresh()

    def resume(self) -> None:
        [record] = self.selected()
        self.app.resume_run(record.id)

    def validate(self) -> None:
        """Open the Photometric panel with this model chosen for a check."""
        [record] = self.selected()
        self.app.show_panel("photometric")
        self.app.panel("photometric").choose_run(record.id)

    def open(self) -> None:
        [record] = self.selected()
        if not open_folder(record.folder):
            self.clipboard_clear()
            self.clipboard_append(str(record.folder))
            self.app.show_message(f"No file manager could be started here; the run's folder is {record.folder} "
                                  "(its path is copied to the clipboard).", "warning")

    def delete(self) -> None:
        chosen = self.selected()
        names = ", ".join(f"'{r.name}'" for r in chosen)
        if not self.app.confirm("Delete runs", f"Delete {names} with their weights and model packages? This cannot be undone."):
            return
        for record in chosen:
            try:
                self.app.bridge.store.delete(record.id)
            except UserError as exc:
                self.app.report_error(exc)
        self.refresh()

    def show_selected(self) -> None:
        chosen = self.selected()
        if chosen:
            self.compare()

    def compare(self) -> None:
        """Overlay the chosen runs' mAP50-95 and training loss per epoch, with a table of final figures."""
        from cardgrader.gui.charts import LiveChart

        chosen = self.selected()
        if not chosen:
            return
        self.compare_hint.grid_remove()
        if self.compare_chart is None:
            self.compare_chart = LiveChart(self.compare_area, "mAP50-95 by epoch", width=4.2, height=2.2, fixed_y=(0.0, 1.02))
            self.compare_chart.grid(row=0, column=0, sticky="nsew", padx=10, pady=10)
            font = theme.mono_font(11)
            self.compare_table = ctk.CTkTextbox(self.compare_area, font=font, wrap="none", width=480)
            self.compare_table.grid(row=0, column=1, sticky="nsew", padx=10, pady=10)
            # the table keeps the width of its rows; the chart takes what is left
            self.compare_area.grid_columnconfigure(1, weight=0, minsize=font.measure("0" * COMPARE_ROW) + 40)
        self.compare_chart.clear()
        rows = [f"{'run':<18}{'P':>7}{'R':>7}{'mAP50':>8}{'mAP50-95':>10}"]
        for index, record in enumerate(chosen):
            history = events.epoch_history(self.app.bridge.store.events(record.id))
            color = theme.CLASS_PALETTE[index % len(theme.CLASS_PALETTE)]
            for e in history:
                self.compare_chart.add_point(record.id, e["epoch"], e["metrics"].get("mAP50_95", 0.0),
                                             label=record.name[:32], color=color, marker="o")
            last = history[-1]["metrics"] if history else {}
            rows.append(f"{record.name[:17]:<18}" + "".join(
                f"{fmt(last.get(k)):>{w}}" for k, w in (("precision", 7), ("recall", 7), ("mAP50", 8), ("mAP50_95", 10))))
        self.compare_chart.request_redraw()
        self.compare_table.configure(state="normal")
        self.compare_table.delete("1.0", "end")
        self.compare_table.insert("1.0", "\n".join(rows) + "\n")
        self.compare_table.configure(state="disabled")

    def apply_theme(self) -> None:
        theme.style_treeview(self)
        if self.compare_chart:
            self.compare_chart.apply_theme()

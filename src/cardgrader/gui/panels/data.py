"""The Data panel: drop (or browse for) folders and files of card photos and labels; see what was found,
the validation report with its quality score, thumbnails with labels drawn on, the class mapping and the
split. Scanning runs on a worker thread with progress and Cancel; the window keeps answering."""

from __future__ import annotations

import os
from pathlib import Path
from tkinter import filedialog
from typing import Callable

import customtkinter as ctk

from cardgrader.data.model import plural
from cardgrader.errors import Cancelled, UserError
from cardgrader.gui import theme
from cardgrader.gui.tasks import BackgroundTask
from cardgrader.gui.widgets import Section, fit_wrap, panel_header, show_progress

LEAVE_OUT = "(leave out)"
MAX_FINDINGS_SHOWN = 200
THUMBNAILS = 24


class DataPanel(ctk.CTkScrollableFrame):
    def __init__(self, master, app):
        super().__init__(master, fg_color="transparent")
        self.app = app
        self.ws = app.workstation  # the sources, their scan and report, the class map and split live there
        self.ws.subscribe(self._on_workstation)
        self._ticket = None  # the job under way (a reading of the sources, or drawing the samples)
        self.task: BackgroundTask | None = None
        self.split_problem: str | None = None  # the split fields' error, while they hold one
        self._listeners: list[Callable[[], None]] = []
        self._thumb_images: list = []
        self.grid_columnconfigure(0, weight=1)

        panel_header(self, "Data", "Card photos with labels from LabelImg, LabelMe, CVAT, Roboflow or YOLO folders. "
                                   "Your folders are only read, never changed.", pady=(4, 8))
        self.stopped = False
        self._hidden_tabs_built = False
        self._build_drop_zone()
        self._build_summary()
        self._build_tabs()
        self._register_drop_targets()
        self._show_empty_state()

    # the workstation's state, as the panel shows it
    paths = property(lambda self: self.ws.sources)
    scan = property(lambda self: self.ws.scan)
    report = property(lambda self: self.ws.report)
    user_map = property(lambda self: self.ws.class_map)

    # ---- layout --------------------------------------------------------------------------------------
    def _build_drop_zone(self) -> None:
        zone = ctk.CTkFrame(self, fg_color=theme.CARD, corner_radius=12, border_width=2, border_color=theme.BORDER)
        zone.grid(row=1, column=0, sticky="ew", padx=6, pady=6)
        zone.grid_columnconfigure(0, weight=1)
        self.drop_zone = zone
        self.drop_label = ctk.CTkLabel(zone, text="Drop folders or files here", font=theme.font(17, "bold"))
        self.drop_label.grid(row=0, column=0, pady=(18, 2))
        self.drop_hint = ctk.CTkLabel(zone, text="…or add them with the buttons. Several at once is fine.",
                                      text_color=theme.MUTED)
        self.drop_hint.grid(row=1, column=0)
        buttons = ctk.CTkFrame(zone, fg_color="transparent")
        buttons.grid(row=2, column=0, pady=(10, 8))
        self.add_folder_button = ctk.CTkButton(buttons, text="Add folder…", width=120, command=self.browse_folder)
        self.add_folder_button.grid(row=0, column=0, padx=5)
        ctk.CTkButton(buttons, text="Add files…", width=120, command=self.browse_files).grid(row=0, column=1, padx=5)
        self.sample_button = ctk.CTkButton(buttons, text="Try with sample cards", width=170, command=self.use_samples,
                                           **theme.GO)
        self.sample_button.grid(row=0, column=2, padx=5)
        self.corrections_button = ctk.CTkButton(buttons, text="My corrections", width=130, command=self.use_corrections)
        self.corrections_button.grid(row=0, column=3, padx=5)
        self.clear_button = ctk.CTkButton(buttons, text="Clear", width=80, command=self.clear, fg_color="transparent",
                                          border_width=1, border_color=theme.BORDER, text_color=("gray10", "gray90"),
                                          hover_color=("gray85", "gray25"))
        self.clear_button.grid(row=0, column=4, padx=5)
        self.sources_label = fit_wrap(ctk.CTkLabel(zone, text="", anchor="w", justify="left", font=theme.font(12),
                                                   wraplength=980))
        self.sources_label.grid(row=3, column=0, sticky="ew", padx=16, pady=(0, 6))
        progress = ctk.CTkFrame(zone, fg_color="transparent")
        progress.grid(row=4, column=0, sticky="ew", padx=16, pady=(0, 12))
        progress.grid_columnconfigure(0, weight=1)
        self.progress_bar = ctk.CTkProgressBar(progress, mode="determinate")
        show_progress(self.progress_bar, 0.0)
        self.progress_bar.grid(row=0, column=0, sticky="ew")
        self.progress_text = ctk.CTkLabel(progress, text="", text_color=theme.MUTED, font=theme.font(12))
        self.progress_text.grid(row=1, column=0, sticky="w")
        self.cancel_button = ctk.CTkButton(progress, text="Cancel", width=80, command=self.cancel_scan)
        self.cancel_button.grid(row=0, column=1, rowspan=2, padx=(10, 0))
        self.progress_frame = progress
        progress.grid_remove()

    def _build_summary(self) -> None:
        self.summary = Section(self, "What was found")
        self.summary.grid(row=2, column=0, sticky="ew", padx=6, pady=6)
        body = self.summary.body
        body.grid_columnconfigure(0, weight=1)
        self.counts_label = ctk.CTkLabel(body, text="", anchor="w", justify="left", font=theme.font(13), wraplength=760)
        self.counts_label.grid(row=0, column=0, sticky="nw")
        score_box = ctk.CTkFrame(body, fg_color="transparent")
        score_box.grid(row=0, column=1, rowspan=2, sticky="ne", padx=(12, 0))
        self.score_label = ctk.CTkLabel(score_box, text="–", font=theme.font(34, "bold"))
        self.score_label.grid(row=0, column=0)
        ctk.CTkLabel(score_box, text="quality / 100", text_color=theme.MUTED, font=theme.font(11)).grid(row=1, column=0)
        self.components_label = ctk.CTkLabel(body, text="", anchor="w", justify="left", text_color=theme.MUTED,
                                             font=theme.font(12), wraplength=760)
        self.components_label.grid(row=1, column=0, sticky="nw", pady=(4, 0))

    def _build_tabs(self) -> None:
        self.tabs = ctk.CTkTabview(self, height=430, command=self.finish_building)
        self.tabs.grid(row=3, column=0, sticky="nsew", padx=6, pady=6)
        self._parent_canvas.bind("<Configure>", self._fit_tabs, add="+")  # the visible height of the panel
        for name in ("Report", "Thumbnails", "Classes", "Split"):
            self.tabs.add(name)
            self.tabs.tab(name).grid_columnconfigure(0, weight=1)
            self.tabs.tab(name).grid_rowconfigure(0, weight=1)
        self.findings_box = ctk.CTkTextbox(self.tabs.tab("Report"), wrap="word", font=theme.font(12))
        self.findings_box.grid(row=0, column=0, sticky="nsew")
        for level in ("error", "warning", "info"):
            self.findings_box.tag_config(level, foreground=theme.pick(theme.SEVERITY[level]))
        self.findings_box.configure(state="disabled")

    def finish_building(self) -> None:
        """The tabs behind Report, which the first frame does not show: built once the window is up (the
        app calls this after start-up), or as soon as anything needs them."""
        if self._hidden_tabs_built:
            return
        self._hidden_tabs_built = True
        self.thumb_grid = ctk.CTkScrollableFrame(self.tabs.tab("Thumbnails"), fg_color="transparent")
        self.thumb_grid.grid(row=0, column=0, sticky="nsew")
        self.thumb_grid.bind("<Configure>", self._grid_thumbs, add="+")
        classes_tab = self.tabs.tab("Classes")
        classes_tab.grid_rowconfigure(0, weight=0)
        classes_tab.grid_rowconfigure(1, weight=1)
        save = ctk.CTkButton(classes_tab, text="Save as my default mapping", command=self.save_mapping)
        save.grid(row=0, column=0, sticky="e", pady=(0, 6), padx=6)
        self.class_rows = ctk.CTkScrollableFrame(classes_tab, fg_color="transparent", height=300)
        self.class_rows.grid(row=1, column=0, sticky="nsew")
        self.class_rows.grid_columnconfigure(1, weight=1)
        split_tab = self.tabs.tab("Split")
        split_tab.grid_rowconfigure(0, weight=0)
        split_tab.grid_columnconfigure(0, weight=0)
        split_tab.grid_columnconfigure(2, weight=1)
        self.split_entries = {}
        for row, (name, default) in enumerate((("train", "0.8"), ("val", "0.2"), ("test", "0"), ("seed", "0"))):
            ctk.CTkLabel(split_tab, text={"seed": "Seed"}.get(name, f"{name.capitalize()} share"), anchor="w").grid(
                row=row, column=0, sticky="w", padx=10, pady=4)
            widget = ctk.CTkEntry(split_tab, width=90)
            widget.insert(0, default)
            widget.grid(row=row, column=1, sticky="w", pady=4)
            widget.bind("<KeyRelease>", lambda _e: self._split_changed())
            widget.bind("<FocusOut>", lambda _e: self._split_changed())  # a pasted value counts too
            self.split_entries[name] = widget
        self.split_error = ctk.CTkLabel(split_tab, text="Existing train/val splits in the source are kept; identical "
                                                        "photos never land in two splits.",
                                        text_color=theme.MUTED, anchor="w", wraplength=600, justify="left")
        self.split_error.grid(row=4, column=0, columnspan=3, sticky="w", padx=10, pady=(8, 0))

    def _register_drop_targets(self) -> None:
        if self.app.dnd_version is None:
            self.drop_hint.configure(text="Drag and drop is not available here; add data with the buttons.")
            return
        from tkinterdnd2 import DND_FILES

        for widget in (self.app, self.drop_zone, self.drop_label):
            widget.drop_target_register(DND_FILES)
            widget.dnd_bind("<<Drop>>", self._on_drop)
            widget.dnd_bind("<<DropEnter>>", lambda e: self._highlight(True) or e.action)
            widget.dnd_bind("<<DropLeave>>", lambda e: self._highlight(False) or e.action)

    def _highlight(self, on: bool) -> None:
        self.drop_zone.configure(border_color=theme.ACCENT if on else theme.BORDER)

    # ---- adding data ---------------------------------------------------------------------------------
    def _on_drop(self, event) -> str:
        self._highlight(False)
        dropped = [p for p in self.tk.splitlist(event.data) if p]  # paths with spaces arrive in braces
        self.app.show_panel("data")
        self.add_paths(dropped)
        return event.action

    def browse_folder(self) -> None:
        folder = filedialog.askdirectory(parent=self, title="Add a folder of card photos and labels")
        if folder:
            self.add_paths([folder])

    def browse_files(self) -> None:
        files = filedialog.askopenfilenames(parent=self, title="Add card photos, label files or a dataset YAML")
        if files:
            self.add_paths(list(files))

    def use_samples(self) -> None:
        """Draw the sample cards (once, into the app's data dir), choose the preset that trains a working
        first model on them, and load them."""
        from cardgrader.gui import samples

        self.cancel_scan()
        self.sample_button.configure(state="disabled")
        self._set_progress(None, "Drawing sample cards…")
        self.stopped = False
        ticket = self._ticket = object()

        def current(callback):  # a newer job, or Cancel, makes this one's late callbacks moot
            return lambda *args: callback(*args) if self._ticket is ticket else None

        def drawn(folder) -> None:
            self.task = None
            self.sample_button.configure(state="normal")
            self.app.model_panel.use_preset(samples.FIRST_MODEL_PRESET)
            self.add_paths([str(folder)])

        self.task = BackgroundTask(self, lambda report, cancel: samples.ensure(samples.FIRST_MODEL, report, cancel),
                                   on_done=current(drawn),
                                   on_error=current(lambda exc, trace: self._scan_failed(ticket, exc, trace)),
                                   on_progress=current(self._set_progress)).start()
        self._notify()

    def use_corrections(self) -> None:
        """The border lines corrected on the Grade panel (the app's corrections/ folder) as a source."""
        from cardgrader.gui.grading_jobs import corrections_dir

        folder = corrections_dir()
        if not any((folder / "labels").glob("*.txt")):
            self.app.show_message("No corrections yet: on the Grade panel, correct a card's lines and press "
                                  "“Save corrections as training labels”.")
            return
        self.add_paths([str(folder)])

    def add_paths(self, new_paths: list[str]) -> None:
        self.ws.add_sources(new_paths)
        self.rescan()

    def remove_path(self, path: str) -> None:
        self.ws.remove_source(path)
        self.rescan()

    def clear(self) -> None:
        self.cancel_scan()
        self.ws.clear_sources()
        self._show_empty_state()
        self._notify()

    # ---- scanning ------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.task is not None

    def rescan(self) -> None:
        """Read the sources again on a worker; the result goes to the workstation on this thread."""
        self.cancel_scan(quietly=True)
        if not self.paths:
            self.clear()
            return
        self._show_sources()
        ticket, read = self.ws.scan_job()

        def job(report, cancel):
            return read(lambda done, total, msg: report(done / max(total, 1), f"{msg} ({done}/{total})"), cancel)

        self._set_progress(0.0, "Looking at what you added…")
        self.stopped = False
        self._ticket = ticket
        self.task = BackgroundTask(self, job, on_done=lambda result: self._scanned(ticket, result),
                                   on_error=lambda exc, trace: self._scan_failed(ticket, exc, trace),
                                   on_progress=lambda *a: self._set_progress(*a) if ticket == self._ticket else None
                                   ).start()
        self._notify()

    def cancel_scan(self, quietly: bool = False) -> None:
        """Stop the scan under way (the Cancel button); its result, if it still arrives, is ignored."""
        if self.task is not None:
            self.task.cancel()
            self.task = None
            if not quietly:
                self.ws.scan_was_stopped(self._ticket)
                self.stopped = True
            self._ticket = None
            self.progress_bar.stop()
            self.progress_frame.grid_remove()
            self.sample_button.configure(state="normal")
            self._notify()

    def _set_progress(self, fraction, text: str) -> None:
        self.progress_frame.grid()
        show_progress(self.progress_bar, fraction)
        self.progress_text.configure(text=text)

    def _scanned(self, ticket: int, result) -> None:
        if ticket != self._ticket:
            return  # a newer reading, or Cancel, made this one moot
        self.task = None
        self.progress_bar.stop()
        self.progress_frame.grid_remove()
        try:
            self.ws.set_scan(ticket, result)  # judged there; the report event redraws this panel
        except UserError as exc:
            self.app.report_error(exc)
        self._notify()

    def _scan_failed(self, ticket: int, exc: BaseException, trace: str) -> None:
        if ticket != self._ticket:
            return
        self.task = None
        self.progress_bar.stop()
        self.progress_frame.grid_remove()
        self.sample_button.configure(state="normal")
        text = self.app.report_error(exc, "info" if isinstance(exc, Cancelled) else "error")
        if isinstance(exc, UserError):
            self._show_findings_text([("error", text)])
        self._notify()

    # ---- the report ----------------------------------------------------------------------------------
    def _targets(self) -> tuple[str, str, list[str]]:
        return self.ws.targets()

    def class_map(self):
        return self.ws.class_mapping()

    def refresh_report(self) -> None:
        """Re-judge the scanned data for the current task, classes and mapping (no file is read again)."""
        self.ws.judge()

    def restore_last_session(self) -> None:
        """The sources of the last session, read again (those that no longer exist are named)."""
        last = [p for p in self.app.settings.get("last_sources") or [] if isinstance(p, str)]
        if not last or self.paths:
            return
        present = [p for p in last if os.path.exists(p)]
        gone = [p for p in last if p not in present]
        if present:
            self.ws.restore_sources(present)
            self.rescan()
        note = f"Restored the {len(present)} source{'s' if len(present) != 1 else ''} of your last session." \
            if present else "The sources of your last session are gone."
        if gone:
            note += f" No longer there: {', '.join(gone)}."
        self.app.show_message(note, "warning" if gone else "info")

    def _on_workstation(self, event: dict) -> None:
        if event["what"] == "sources":
            self.app.settings.set("last_sources", list(self.ws.sources))
        if event["what"] == "report":
            if event.get("error"):
                self.app.show_message(event["error"], "error")
            elif self.report is not None:
                self._show_report()
            self._notify()

    def _show_sources(self) -> None:
        lines = []
        for path in self.paths:
            found = None
            if self.report:
                found = next((s for s in self.report.sources if s.path == path or Path(s.path) == Path(path)), None)
            detail = f" — {found.title}: {found.reason}" if found else ""
            lines.append(f"• {path}{detail}")
        self.sources_label.configure(text="\n".join(lines))
        self.drop_label.configure(text="Drop more folders or files here")

    def _show_report(self) -> None:
        report = self.report
        self._show_sources()
        c = report.counts
        classes = ", ".join(f"{k} {v}" for k, v in c.get("classes", {}).items()) or "none"
        sides = ", ".join(f"{k} {v}" for k, v in c.get("sides", {}).items()) or "not given"
        trainable = self.trainable_images()
        self.counts_label.configure(text=(
            f"{c['images']} images ({c['usable']} usable, {c['labelled']} labelled, {c['backgrounds']} backgrounds, "
            f"{c['duplicates']} duplicates) · {c['non_image_files']} other files ignored\n"
            f"Labels for this task: {classes} · sides: {sides}\n"
            f"{trainable} images can train a {self._targets()[0]} model · "
            f"{plural(c['errors'], 'error')}, {plural(c['warnings'], 'warning')}"))
        score = report.quality.score
        if score is None:  # no image at all: nothing to score, and the recommendation says so
            self.score_label.configure(text="–", text_color=theme.MUTED)
        else:
            color = theme.OK if score >= 80 else theme.SEVERITY["warning"] if score >= 50 else theme.SEVERITY["error"]
            self.score_label.configure(text=str(score), text_color=color)
        self.components_label.configure(text="  ·  ".join(
            f"{name} {comp.score:.0f}" for name, comp in report.quality.components.items()))
        lines = [(f.severity, f"{theme.SEVERITY_MARK[f.severity]} {f.message}") for f in report.findings[:MAX_FINDINGS_SHOWN]]
        if len(report.findings) > MAX_FINDINGS_SHOWN:
            lines.append(("info", f"… and {len(report.findings) - MAX_FINDINGS_SHOWN} more (`cardgrader data check` lists all)"))
        if not report.findings:
            lines.append(("info", "✔ No problems found."))
        lines += [("info", f"→ {r}") for r in report.recommendations]
        self._show_findings_text(lines)
        self._show_class_rows()
        self._render_thumbnails()

    def _show_findings_text(self, lines: list[tuple[str, str]]) -> None:
        box = self.findings_box
        box.configure(state="normal")
        box.delete("1.0", "end")
        for level, text in lines:
            box.insert("end", text + "\n", level)
        box.configure(state="disabled")

    def _show_empty_state(self) -> None:
        self.sources_label.configure(text="Nothing added yet. No data of your own at hand? "
                                          "“Try with sample cards” makes a set of synthetic card photos with labels.")
        self.drop_label.configure(text="Drop folders or files here")
        self.counts_label.configure(text="Add data to see what it holds.")
        self.score_label.configure(text="–", text_color=theme.MUTED)
        self.components_label.configure(text="")
        self._show_findings_text([])
        if self._hidden_tabs_built:
            for child in self.thumb_grid.winfo_children() + self.class_rows.winfo_children():
                child.destroy()

    # ---- thumbnails ----------------------------------------------------------------------------------
    def _render_thumbnails(self) -> None:
        from cardgrader.gui.thumbnails import render

        report = self.report
        task, border, classes = self._targets()
        class_map = self.class_map()
        targets = classes
        items = sorted(report.items, key=lambda i: (i.usable, not i.shapes))[:THUMBNAILS]  # problems first

        def job(progress, cancel):
            out = []
            for item in items:
                if cancel.is_set():
                    break
                numbered = report.sources[item.source].names is None
                out.append((item, render(item, targets, lambda label: class_map.resolve(label, targets, numbered))))
            return out

        BackgroundTask(self, job, on_done=self._show_thumbnails).start()

    def _show_thumbnails(self, rendered) -> None:
        self.finish_building()
        for child in self.thumb_grid.winfo_children():
            child.destroy()
        self._thumb_images = []
        self._thumb_cells = []
        for item, image in rendered:
            picture = ctk.CTkImage(light_image=image, dark_image=image, size=image.size)
            self._thumb_images.append(picture)
            caption = f"{Path(item.image).name[:24]}\n{len(item.shapes)} labels" + ("" if item.usable else " · unusable")
            self._thumb_cells.append(ctk.CTkLabel(
                self.thumb_grid, image=picture, text=caption, compound="top", font=theme.font(11),
                text_color=theme.SEVERITY["error"] if not item.usable else ("gray10", "gray90")))
        self._thumb_width = max((image.size[0] for _item, image in rendered), default=160)
        self._thumb_columns = 0
        self._grid_thumbs()

    def _grid_thumbs(self, _event=None) -> None:
        """As many thumbnails a row as the tab's width holds (more in a wide window)."""
        cells = getattr(self, "_thumb_cells", [])
        width = self.thumb_grid.winfo_width()
        columns = max(2, (width - 20) // (getattr(self, "_thumb_width", 160) + 12)) if width > 1 else 6
        if not cells or columns == getattr(self, "_thumb_columns", 0):
            return
        self._thumb_columns = columns
        for index, cell in enumerate(cells):
            cell.grid(row=index // columns, column=index % columns, padx=6, pady=6)

    def _fit_tabs(self, event) -> None:
        """The tabs reach down to the bottom of the window (the panel scrolls; its tabs would not grow)."""
        height = max(430, int(event.height) - self.tabs.winfo_y() - 16)
        if abs(height - self.tabs.cget("height")) > 4:
            self.tabs.configure(height=height)

    def apply_theme(self) -> None:
        """Rebuild what CustomTkinter cannot recolour inside scrollable frames after a theme change."""
        for level in ("error", "warning", "info"):
            self.findings_box.tag_config(level, foreground=theme.pick(theme.SEVERITY[level]))
        if self.report is not None:
            self._show_class_rows()
            self._render_thumbnails()

    # ---- class mapping -------------------------------------------------------------------------------
    def _show_class_rows(self) -> None:
        from cardgrader.data.classmap import ALL_CLASSES

        self.finish_building()
        for child in self.class_rows.winfo_children():
            child.destroy()
        task, border, classes = self._targets()
        class_map = self.class_map()
        labels: dict[str, int] = {}
        numbered = {i.image: self.report.sources[i.source].names is None for i in self.report.items}
        for item in self.report.items:
            for shape in item.shapes:
                labels[shape.label] = labels.get(shape.label, 0) + 1
        ctk.CTkLabel(self.class_rows, text="In your data", font=theme.font(12, "bold")).grid(row=0, column=0, sticky="w", padx=8)
        ctk.CTkLabel(self.class_rows, text=f"Trains as (task classes: {', '.join(classes)})",
                     font=theme.font(12, "bold")).grid(row=0, column=1, sticky="w", padx=8)
        choices = list(dict.fromkeys(classes + list(ALL_CLASSES))) + [LEAVE_OUT]
        any_numbered = any(numbered.values())
        self.class_menus = {}
        for row, (label, count) in enumerate(sorted(labels.items()), start=1):
            ctk.CTkLabel(self.class_rows, text=f"{label}  ({count})", anchor="w").grid(row=row, column=0, sticky="w", padx=8, pady=3)
            target = class_map.resolve(label, classes, any_numbered) or class_map.target(label, classes)
            menu = ctk.CTkOptionMenu(self.class_rows, values=choices, width=200,
                                     command=lambda value, name=label: self._map_changed(name, value))
            menu.set(target if target in choices and target in classes else LEAVE_OUT)
            menu.grid(row=row, column=1, sticky="w", padx=8, pady=3)
            self.class_menus[label] = menu

    def _map_changed(self, label: str, value: str) -> None:
        self.ws.map_class(label, None if value == LEAVE_OUT else value)

    def save_mapping(self) -> None:
        from cardgrader.data.classmap import ClassMap, save_user_map

        try:
            path = save_user_map({**ClassMap.load().user, **self.user_map})
        except UserError as exc:
            self.app.report_error(exc)
            return
        self.app.show_message(f"Saved your class mapping to {path}; new data uses it too.", "info")

    # ---- split ---------------------------------------------------------------------------------------
    def split_settings(self) -> tuple[str, int]:
        """The split the fields hold, handed to the workstation; UserError naming what is wrong."""
        self.finish_building()
        text = ",".join(self.split_entries[k].get().strip() or "0" for k in ("train", "val", "test"))
        self.ws.set_split(text, self.split_entries["seed"].get())
        return self.ws.split, self.ws.seed

    def _split_changed(self) -> None:
        try:
            self.split_settings()
            self.split_problem = None
            note = self.ws.split_note()  # shares that do not add up to 1 are scaled: said, not silent
            self.split_error.configure(text=note or "Existing train/val splits in the source are kept; identical "
                                            "photos never land in two splits.",
                                       text_color=theme.SEVERITY["warning"] if note else theme.MUTED)
        except UserError as exc:
            self.split_problem = str(exc).replace("--split", "The split")
            self.split_error.configure(text=self.split_problem, text_color=theme.SEVERITY["error"])
        self._notify()

    # ---- what the rest of the app asks -----------------------------------------------------------------
    def on_change(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def _notify(self) -> None:
        for callback in self._listeners:
            callback()

    def trainable_images(self) -> int:
        return self.ws.trainable_images()

    def planned_images(self) -> tuple[int, int]:
        """About how many labelled images a run would train and validate on with the current split."""
        return self.ws.planned_images()

    def readiness(self) -> tuple[bool, str]:
        if not self.paths and self.task is not None:
            return False, "Drawing the sample cards…"
        if self.split_problem and self.paths:
            return False, self.split_problem
        ready, reason = self.ws.readiness(reading=self.task is not None)
        if not ready and reason == "Fix the marked settings on the Model panel first.":
            return True, "the data is ready"  # the data is fine; the Model panel says what is not
        return ready, reason

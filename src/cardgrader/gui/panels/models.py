"""The Models panel: the model library — every finished run's model and every imported `.pt`, by line
(task / side / architecture) with its version, scores and classes, and the active model of each line.

Listing, renaming, activating and deleting are small JSON edits of the library and run here; importing
and exporting load torch, so they run in a child process (`offload.run_in_process`)."""

from __future__ import annotations

from pathlib import Path
from tkinter import filedialog

import customtkinter as ctk

from cardgrader.errors import Cancelled, UserError
from cardgrader.gui import theme
from cardgrader.gui.tasks import BackgroundTask
from cardgrader.gui.widgets import Section, button_row, panel_header, show_progress, table
from cardgrader.training.progress import fmt
from cardgrader.vocabulary import ARCH_LABELS, SIDES, TASK_LABELS, TASKS

COLUMNS = (("active", "Active", 64), ("line", "Task / side / architecture", 250), ("name", "Name", 250),
           ("version", "Version", 80), ("map50", "mAP50", 80), ("map", "mAP50-95", 96), ("classes", "Classes", 220))
GUESS = "Guess from class names"
SIDE_LABELS = {"both": "Both sides", "front": "Front", "back": "Back"}
# The library speaks to the command line; the dialog has menus and a name box instead of flags.
CLI_WORDS = (("give --task", "choose the task"), ("give another --name", "choose another name"),
             ("--task must", "The task must"), ("--side must", "The side must"))


def line_text(model) -> str:
    return f"{TASK_LABELS.get(model.task, model.task)} / {model.side} / {ARCH_LABELS.get(model.arch, model.arch)}"


def gui_words(message: str) -> str:
    for cli, gui in CLI_WORDS:
        message = message.replace(cli, gui)
    return message


class ModelsPanel(ctk.CTkFrame):
    def __init__(self, master, app):
        super().__init__(master, fg_color="transparent")
        self.app = app
        self.models: dict = {}  # label (name@version) -> LibraryModel, as last listed
        self.task: BackgroundTask | None = None  # an export in progress
        self.import_dialog: ImportDialog | None = None
        self.export_result: dict | None = None
        self.grid_columnconfigure(0, weight=1)
        self.grid_rowconfigure(2, weight=1)

        panel_header(self, "Models", "Every finished run and imported .pt, by line (task / side / architecture). The active "
                                     "model of a line is the one grading and checks use. Drop a .pt here to import it.")

        self.buttons = button_row(self, 1, (
            ("refresh", "Refresh", self.refresh), ("activate", "Activate", self.activate),
            ("predict", "Predict…", self.predict), ("import", "Import .pt…", self.browse_import),
            ("export", "Export ONNX", self.export), ("delete", "Delete…", self.delete),
        ), width=110, danger=("delete",))
        self.table, table_frame = table(self, 2, COLUMNS, stretch=("name", "classes"), centred=("active",),
                                        keep_widths=True)
        self.table_frame = table_frame
        self.table.tag_configure("active", font=("TkDefaultFont", 10, "bold"))
        self.table.bind("<<TreeviewSelect>>", lambda _e: self._selection_changed())
        self.table.bind("<Double-1>", lambda _e: self.predict())
        self.empty_hint = ctk.CTkLabel(table_frame, text="No models yet. A finished training run adds one; "
                                                         "Import .pt adds your own.", text_color=theme.MUTED,
                                       fg_color=("#ffffff", "#1d1e1e"))  # the table's own background

        details = Section(self, "Selected model")
        details.grid(row=3, column=0, sticky="ew", padx=6, pady=(0, 6))
        body = details.body
        body.grid_columnconfigure(1, weight=0)
        body.grid_columnconfigure(3, weight=1)
        ctk.CTkLabel(body, text="Name", font=theme.font(13)).grid(row=0, column=0, sticky="w", padx=(0, 10))
        self.name_entry = ctk.CTkEntry(body, width=300)
        self.name_entry.grid(row=0, column=1, sticky="w")
        self.name_entry.bind("<Return>", lambda _e: self.rename())
        self.rename_button = ctk.CTkButton(body, text="Rename", width=90, command=self.rename)
        self.rename_button.grid(row=0, column=2, sticky="w", padx=8)
        self.facts = ctk.CTkLabel(body, text="Select a model to see its classes, scores and files.", anchor="w",
                                  justify="left", font=theme.font(12), text_color=theme.MUTED, wraplength=1000)
        self.facts.grid(row=1, column=0, columnspan=4, sticky="w", pady=(8, 0))
        self.progress = ctk.CTkProgressBar(body, height=8)
        show_progress(self.progress, 0.0)
        self.progress.grid(row=2, column=0, columnspan=2, sticky="ew", pady=(8, 0))
        self.progress.grid_remove()
        self.cancel_button = ctk.CTkButton(body, text="Cancel", width=80, command=self.cancel_export)
        self.cancel_button.grid(row=2, column=2, sticky="w", padx=8, pady=(8, 0))
        self.cancel_button.grid_remove()
        self.message = ctk.CTkLabel(body, text="", anchor="w", justify="left", font=theme.font(12), wraplength=1000)
        self.message.grid(row=3, column=0, columnspan=4, sticky="w", pady=(6, 0))

        self._register_drop_targets()
        self.table.bind("<Map>", lambda _e: self.refresh(), add="+")  # shown: the library may have changed
        self.refresh()

    # ---- listing -------------------------------------------------------------------------------------
    def library(self):
        from cardgrader.models.library import ModelLibrary

        return ModelLibrary()

    def refresh(self, select: str | None = None) -> None:
        chosen = select or self.selected_label()
        try:
            models = self.library().list()
        except UserError as exc:
            self.say(str(exc), "error")
            models = []
        self.models = {m.label: m for m in models}
        self.table.delete(*self.table.get_children())
        for m in models:
            self.table.insert("", "end", iid=m.label, tags=("active",) if m.active else (), values=(
                "●" if m.active else "", line_text(m), m.name, m.version, fmt(m.metrics.get("mAP50")),
                fmt(m.metrics.get("mAP50_95")), ", ".join(m.classes)))
        if models:
            self.empty_hint.place_forget()
        else:
            self.empty_hint.place(relx=0.5, rely=0.5, anchor="center")
        if chosen in self.models:
            self.table.selection_set([chosen])
            self.table.see(chosen)
        self._selection_changed()

    def selected_label(self) -> str | None:
        chosen = self.table.selection()
        return chosen[0] if chosen and chosen[0] in self.models else None

    def selected(self):
        label = self.selected_label()
        return self.models.get(label) if label else None

    def _selection_changed(self) -> None:
        model = self.selected()
        busy = self.task is not None
        for name in ("activate", "predict", "export", "delete"):
            self.buttons[name].configure(state="normal" if model is not None and not busy else "disabled")
        if model is not None and model.active:
            self.buttons["activate"].configure(state="disabled")
        self.rename_button.configure(state="normal" if model is not None else "disabled")
        if model is None:
            self.name_entry.delete(0, "end")
            self.facts.configure(text="Select a model to see its classes, scores and files.", text_color=theme.MUTED)
            return
        if getattr(self, "_shown", None) != model.label:
            self.name_entry.delete(0, "end")
            self.name_entry.insert(0, model.name)
            self._shown = model.label
        m = model.metrics
        scores = " · ".join(f"{title} {fmt(m.get(key))}" for key, title in (
            ("mAP50", "mAP50"), ("mAP50_95", "mAP50-95"), ("precision", "precision"), ("recall", "recall")))
        origin = f"trained in run {model.run}" if model.run else f"imported from {model.imported_from}"
        self.facts.configure(text_color=("gray10", "gray90"), text=(
            f"{model.label}{' · active for its line' if model.active else ''} · {line_text(model)}\n"
            f"Classes: {', '.join(model.classes)}\n{scores}\n{origin.capitalize()} · package {model.package}"))

    def say(self, text: str, level: str = "info") -> None:
        self.message.configure(text=text, text_color=theme.SEVERITY[level] if level != "info" else theme.MUTED)

    # ---- changing the library ------------------------------------------------------------------------
    def activate(self) -> None:
        model = self.selected()
        if model is None:
            return
        try:
            self.library().activate(model.label)
        except UserError as exc:
            self.say(str(exc), "error")
            return
        self.refresh(select=model.label)
        self.say(f"{model.label} is now the active model for {line_text(model)}.")

    def rename(self) -> None:
        model = self.selected()
        new = self.name_entry.get().strip()
        if model is None or new == model.name:
            return
        try:
            renamed = self.library().rename(model.label, new)
        except UserError as exc:
            self.say(str(exc), "error")
            return
        self._shown = None
        self.refresh(select=renamed.label)
        self.say(f"Renamed {model.label} to {renamed.label}.")

    def delete(self) -> None:
        model = self.selected()
        if model is None:
            return
        what = "Its training run stays in Runs." if model.run else "The library's copy of the .pt is removed; your file stays."
        if not self.app.confirm("Delete model", f"Take {model.label} ({line_text(model)}) out of the library? {what}",
                                yes="Delete"):
            return
        library = self.library()
        try:
            library.delete(model.label)
        except UserError as exc:
            self.say(str(exc), "error")
            return
        self.refresh()
        self.say(" ".join([f"Deleted {model.label}."] + library.notes))

    # ---- importing -----------------------------------------------------------------------------------
    def _register_drop_targets(self) -> None:
        if self.app.dnd_version is None:
            return
        from tkinterdnd2 import DND_FILES

        for widget in (self, self.table_frame, self.table):
            widget.drop_target_register(DND_FILES)
            widget.dnd_bind("<<Drop>>", self._on_drop)

    def _on_drop(self, event) -> str:
        dropped = [p for p in self.tk.splitlist(event.data) if p]
        weights = [p for p in dropped if p.lower().endswith(".pt")]
        if not weights:
            self.say("Only .pt weights files can be imported here; drop card photos on the Predict panel.", "error")
        else:
            self.import_file(weights[0])
            if len(weights) > 1:
                self.say(f"Importing {Path(weights[0]).name} first; drop the other {len(weights) - 1} one at a time.")
        return event.action

    def browse_import(self) -> None:
        path = filedialog.askopenfilename(parent=self, title="Import a YOLO weights file",
                                          filetypes=[("PyTorch weights", "*.pt"), ("All files", "*")])
        if path:
            self.import_file(path)

    def import_file(self, path: str) -> None:
        if self.import_dialog is not None and self.import_dialog.winfo_exists():
            self.import_dialog.destroy()
        self.import_dialog = ImportDialog(self, Path(path))

    def imported(self, entry: dict) -> None:
        self.import_dialog = None
        label = f"{entry['name']}@{entry['version']}"
        self.refresh(select=label)
        line = entry["line"]
        self.say(f"Imported {label} ({line['task']} / {line['side']} / {ARCH_LABELS.get(line['arch'], line['arch'])}; "
                 f"classes {', '.join(entry['classes'])}){' — the active model of its line' if entry['active'] else ''}.")

    # ---- exporting -----------------------------------------------------------------------------------
    def export(self) -> None:
        """ONNX beside the model's weights, then onnxruntime's output compared with the .pt's."""
        from cardgrader.gui.model_jobs import export_onnx
        from cardgrader.gui.offload import run_in_process

        model = self.selected()
        if model is None or self.task is not None:
            return
        package, label = model.package, model.label

        def job(_report, cancel):  # torch and the exporter load in the child, never in the window's process
            return run_in_process(export_onnx, package, cancel=cancel)

        def done(result: dict) -> None:
            self._export_ended()
            self.export_result = result
            self.say(f"Exported {label} to {result['path']} — {result['check']}.",
                     "info" if result["verified"] else "warning")

        def failed(exc: BaseException, _trace: str) -> None:
            self._export_ended()
            if isinstance(exc, Cancelled):
                self.say(f"Export of {label} stopped; the model is unchanged.")
            elif isinstance(exc, UserError):
                self.say(str(exc), "error")
            else:
                self.app.report_error(exc)

        self.export_result = None
        self.task = BackgroundTask(self, job, on_done=done, on_error=failed).start()
        self.progress.grid()
        self.cancel_button.grid()
        show_progress(self.progress, None)
        self._selection_changed()
        self.say(f"Exporting {label} to ONNX and checking it with onnxruntime against the .pt…")

    def _export_ended(self) -> None:
        self.task = None
        show_progress(self.progress, 0.0)
        self.progress.grid_remove()
        self.cancel_button.grid_remove()
        self._selection_changed()

    def cancel_export(self) -> None:
        if self.task is not None:
            self.task.cancel()  # the child process ends at once; the package's metadata is written only after a check

    # ---- elsewhere -----------------------------------------------------------------------------------
    def predict(self) -> None:
        model = self.selected()
        if model is None:
            return
        self.app.show_panel("predict")
        self.app.panel("predict").choose_model(model.label)

    def apply_theme(self) -> None:
        theme.style_treeview(self)
        self.table.tag_configure("active", font=("TkDefaultFont", 10, "bold"))


class ImportDialog(ctk.CTkToplevel):
    """Name, task and side for a `.pt`, then the import in a child process; a refusal is shown here and the
    grader can change the task or name and press Import again."""

    def __init__(self, panel: ModelsPanel, file: Path):
        super().__init__(panel)
        self.panel, self.file = panel, file
        self.task: BackgroundTask | None = None
        self.title("Import a model")
        self.resizable(False, False)
        self.transient(panel.winfo_toplevel())
        self.grid_columnconfigure(1, weight=1)
        ctk.CTkLabel(self, text=f"Add {file.name} to the library", font=theme.font(15, "bold"), anchor="w").grid(
            row=0, column=0, columnspan=2, sticky="w", padx=20, pady=(18, 0))
        ctk.CTkLabel(self, text=str(file), text_color=theme.MUTED, font=theme.font(11), anchor="w", wraplength=420,
                     justify="left").grid(row=1, column=0, columnspan=2, sticky="w", padx=20, pady=(0, 10))
        rows = (("Name", "name"), ("Task", "task"), ("Side", "side"))
        for row, (title, _key) in enumerate(rows, start=2):
            ctk.CTkLabel(self, text=title, font=theme.font(13)).grid(row=row, column=0, sticky="w", padx=(20, 10), pady=4)
        self.name_entry = ctk.CTkEntry(self, width=280)
        self.name_entry.insert(0, file.stem)
        self.name_entry.grid(row=2, column=1, sticky="w", padx=(0, 20), pady=4)
        self.task_menu = ctk.CTkOptionMenu(self, values=[GUESS] + [TASK_LABELS[t] for t in TASKS], width=280)
        self.task_menu.set(GUESS)
        self.task_menu.grid(row=3, column=1, sticky="w", padx=(0, 20), pady=4)
        self.side_menu = ctk.CTkOptionMenu(self, values=[SIDE_LABELS[s] for s in SIDES], width=280)
        self.side_menu.set(SIDE_LABELS["both"])
        self.side_menu.grid(row=4, column=1, sticky="w", padx=(0, 20), pady=4)
        self.message = ctk.CTkLabel(self, text="The file is checked before it is loaded; the task is guessed from its "
                                               "class names unless you choose one.", text_color=theme.MUTED,
                                    font=theme.font(12), wraplength=420, justify="left", anchor="w")
        self.message.grid(row=5, column=0, columnspan=2, sticky="w", padx=20, pady=(10, 4))
        self.progress = ctk.CTkProgressBar(self, height=8)
        self.progress.grid(row=6, column=0, columnspan=2, sticky="ew", padx=20, pady=(2, 4))
        self.progress.grid_remove()
        buttons = ctk.CTkFrame(self, fg_color="transparent")
        buttons.grid(row=7, column=0, columnspan=2, sticky="e", padx=20, pady=(6, 18))
        self.cancel_button = ctk.CTkButton(buttons, text="Cancel", width=100, command=self.close,
                                           fg_color=("gray70", "gray30"), hover_color=("gray60", "gray25"))
        self.cancel_button.grid(row=0, column=0, padx=(0, 8))
        self.import_button = ctk.CTkButton(buttons, text="Import", width=100, command=self.start)
        self.import_button.grid(row=0, column=1)
        self.protocol("WM_DELETE_WINDOW", self.close)
        self.bind("<Escape>", lambda _e: self.close())
        self.after(50, self._place)

    def _place(self) -> None:
        root = self.panel.winfo_toplevel()
        self.update_idletasks()
        x = root.winfo_rootx() + (root.winfo_width() - self.winfo_width()) // 2
        y = root.winfo_rooty() + (root.winfo_height() - self.winfo_height()) // 3
        self.geometry(f"+{max(x, 0)}+{max(y, 0)}")
        self.lift()
        self.name_entry.focus_set()

    def choices(self) -> tuple[str, str | None, str]:
        task_label = self.task_menu.get()
        task = next((t for t in TASKS if TASK_LABELS[t] == task_label), None)
        side = next(s for s in SIDES if SIDE_LABELS[s] == self.side_menu.get())
        return self.name_entry.get().strip(), task, side

    def start(self) -> None:
        from cardgrader.gui.model_jobs import import_model
        from cardgrader.gui.offload import run_in_process

        name, task, side = self.choices()
        file = str(self.file)

        def job(_report, cancel):  # the child loads torch to read the classes; this process never does
            return run_in_process(import_model, file, name or None, task, side, cancel=cancel)

        self.import_button.configure(state="disabled")
        self.message.configure(text="Checking and loading the weights…", text_color=theme.MUTED)
        self.progress.grid()
        show_progress(self.progress, None)
        self.task = BackgroundTask(self, job, on_done=self._done, on_error=self._failed).start()

    def _done(self, entry: dict) -> None:
        self.task = None
        self.destroy()
        self.panel.imported(entry)

    def _failed(self, exc: BaseException, _trace: str) -> None:
        self.task = None
        show_progress(self.progress, 0.0)
        self.progress.grid_remove()
        self.import_button.configure(state="normal")
        if isinstance(exc, Cancelled):
            return
        if not isinstance(exc, UserError):
            self.app.report_error(exc)
            exc = UserError(f"The import failed ({type(exc).__name__}); details are in the log.")
        self.message.configure(text=gui_words(str(exc)), text_color=theme.SEVERITY["error"])

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()  # the child process is ended; nothing was added
            self.task = None
        self.panel.import_dialog = None
        self.destroy()

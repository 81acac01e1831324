"""The Model panel: what to train (architecture, task, side, border type, classes, model, weights)
and how (hyper-parameters, device, presets). Every change re-validates the TrainingConfig and marks
each invalid field inline with its reason."""

from __future__ import annotations

import platform
import shutil
import subprocess
from tkinter import filedialog
from typing import Callable

import customtkinter as ctk

from cardgrader.errors import UserError
from cardgrader.gui import theme
from cardgrader.gui.widgets import Choice, Field, Section, entry
from cardgrader.training import presets
from cardgrader.training.engine import official_weights_problem
from cardgrader.training.config import (
    AUGMENTS,
    FAMILIES,
    OPTIMIZERS,
    SIZES,
    TrainingConfig,
)
from cardgrader.vocabulary import (
    ARCH_LABELS,
    BORDER_LABELS,
    SIDES,
    TASK_LABELS,
    default_classes,
)
from cardgrader.workstation.model import describe

NUMBER_FIELDS = ("epochs", "batch", "imgsz", "lr0", "patience", "workers", "seed")
LR_AUTO_HINT = "Not used with optimizer auto, which picks its own; choose an optimizer to train with this rate."
WEIGHT_KINDS = {"scratch": "From scratch", "file": "My .pt file", "official": "Official pretrained"}


def detect_devices() -> list[str]:
    """auto and cpu, plus each NVIDIA GPU nvidia-smi lists, or mps on Apple silicon (no torch import)."""
    devices = ["auto", "cpu"]
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        devices.append("mps")
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "--query-gpu=index", "--format=csv,noheader"], capture_output=True,
                                 text=True, timeout=5).stdout
            indices = [line.strip() for line in out.splitlines() if line.strip().isdigit()]
            devices += [f"cuda:{i}" for i in indices]
            if len(indices) > 1:
                devices.append(",".join(indices))
        except (OSError, subprocess.SubprocessError):
            pass
    return devices


class ModelPanel(ctk.CTkScrollableFrame):
    def __init__(self, master, app):
        super().__init__(master, fg_color="transparent")
        self.app = app
        self._listeners: list[Callable[[], None]] = []
        self._classes_edited = False
        self._written: dict[str, str] = {}  # what the panel itself last wrote into each number field
        self._validate_job = None
        self.config: TrainingConfig | None = None
        self.problems: list[tuple[str, str]] = []
        self.grid_columnconfigure((0, 1), weight=1, uniform="cols")

        header = ctk.CTkFrame(self, fg_color="transparent")
        header.grid(row=0, column=0, columnspan=2, sticky="ew", padx=6, pady=(4, 8))
        header.grid_columnconfigure(0, weight=1)
        ctk.CTkLabel(header, text="Model", font=theme.font(22, "bold"), anchor="w").grid(row=0, column=0, sticky="w")
        self.summary = ctk.CTkLabel(header, text="", anchor="w", justify="left", font=theme.font(13),
                                    text_color=theme.MUTED, wraplength=900)
        self.summary.grid(row=1, column=0, sticky="ew")
        # what a change of task filled in from its profile, and what it kept because the grader set it
        self.task_note = ctk.CTkLabel(header, text="", anchor="w", justify="left", font=theme.font(12),
                                      text_color=theme.MUTED, wraplength=900)
        self.task_note.grid(row=2, column=0, sticky="ew")

        what = Section(self, "What to train", "The architecture, the part of the grade, and the classes it learns.")
        what.grid(row=1, column=0, sticky="nsew", padx=6, pady=6)
        how = Section(self, "How to train", "Start from a preset; every value can be changed.")
        how.grid(row=1, column=1, sticky="nsew", padx=6, pady=6)
        self.fields: dict[str, Field] = {}
        self._build_what(what.body)
        self._build_how(how.body)
        self.set_config(self._remembered_config())

    # ---- layout ------------------------------------------------------------------------------------
    def _field(self, parent, row: int, name: str, label: str, factory, hint: str = "") -> Field:
        field = Field(parent, row, label, factory, hint)
        self.fields[name] = field
        return field

    def _build_what(self, body) -> None:
        self.arch = self._field(body, 0, "arch", "Architecture",
                                lambda m: Choice(m, ARCH_LABELS, command=lambda _v: self.changed())).widget
        self.task = self._field(body, 1, "task", "Task",
                                lambda m: Choice(m, TASK_LABELS, command=self._task_changed)).widget
        self.side = self._field(body, 2, "side", "Card side",
                                lambda m: Choice(m, {s: s.capitalize() for s in SIDES}, command=lambda _v: self.changed())).widget
        self.border = self._field(body, 3, "border", "Border type",
                                  lambda m: Choice(m, {k: v.split(" (")[0] for k, v in BORDER_LABELS.items()},
                                                   command=self._border_changed),
                                  hint="Outer: the physical card edge. Inner: the printed border. Dual: both, two classes.").widget
        self.classes_entry = self._field(
            body, 4, "classes", "Classes", lambda m: entry(m, width=320),
            hint="Comma-separated; derived from task and border type until you edit them.").widget
        self.classes_entry.bind("<KeyRelease>", lambda _e: self._classes_typed())
        self.reset_classes_button = reset = ctk.CTkButton(self.classes_entry.master, text="Reset", width=64,
                                                          command=self._reset_classes)
        reset.grid(row=0, column=1, padx=(6, 0))

        model_row = lambda m: ctk.CTkFrame(m, fg_color="transparent")  # noqa: E731
        holder = self._field(body, 5, "family", "Model", model_row).widget
        self.family = ctk.CTkOptionMenu(holder, values=list(FAMILIES), width=110, command=lambda _v: self.changed())
        self.family.grid(row=0, column=0)
        self.size = ctk.CTkSegmentedButton(holder, values=list(SIZES), command=lambda _v: self.changed())
        self.size.grid(row=0, column=1, padx=(8, 0))
        self.fields["size"] = self.fields["family"]

        weights_holder = self._field(body, 6, "weights", "Weights", model_row).widget
        self.weights_kind = Choice(weights_holder, WEIGHT_KINDS, command=self._weights_kind_changed)
        self.weights_kind.grid(row=0, column=0, columnspan=2, sticky="w")
        self.weights_entry = entry(weights_holder, width=180, placeholder_text="a .pt file or yolo11n.pt")
        self.weights_entry.grid(row=1, column=0, pady=(6, 0), sticky="w")
        self.weights_entry.bind("<KeyRelease>", lambda _e: self.changed())
        self.weights_browse = ctk.CTkButton(weights_holder, text="Browse…", width=80, command=self._browse_weights)
        self.weights_browse.grid(row=1, column=1, padx=(6, 0), pady=(6, 0))

    def _build_how(self, body) -> None:
        holder = self._field(body, 0, "preset", "Preset", lambda m: ctk.CTkFrame(m, fg_color="transparent")).widget
        self.preset = ctk.CTkOptionMenu(holder, values=self._preset_names(), width=190, command=self._apply_preset)
        self.preset.set("choose…")
        self.preset.grid(row=0, column=0, columnspan=3, sticky="w")
        self.preset_buttons = {}
        for col, (text, command) in enumerate((("Save as…", self._save_preset), ("Import…", self._import_preset),
                                               ("Export…", self._export_preset), ("Delete", self._delete_preset))):
            button = ctk.CTkButton(holder, text=text, width=84, command=command)
            button.grid(row=1 + col // 2, column=col % 2, padx=(0, 6), pady=(6, 0), sticky="w")
            self.preset_buttons[text.rstrip("…").lower().replace(" as", "")] = button
        labels = {"epochs": "Epochs", "batch": "Batch size", "imgsz": "Image size (px)", "lr0": "Learning rate",
                  "patience": "Early-stop patience", "workers": "Data workers", "seed": "Seed"}
        self.numbers: dict[str, ctk.CTkEntry] = {}
        row = 1
        for name in NUMBER_FIELDS:
            widget = self._field(body, row, name, labels[name], lambda m: entry(m, width=110)).widget
            widget.bind("<KeyRelease>", lambda _e, name=name: self._number_typed(name))
            self.numbers[name] = widget
            row += 1
        self.optimizer = self._field(body, row, "optimizer", "Optimizer", lambda m: ctk.CTkOptionMenu(
            m, values=list(OPTIMIZERS), width=110, command=lambda _v: self._chosen("optimizer"))).widget
        self.augment = self._field(body, row + 1, "augment", "Augmentation", lambda m: Choice(
            m, {a: a.capitalize() for a in AUGMENTS}, command=lambda _v: self._chosen("augment"))).widget
        self.device = self._field(body, row + 2, "device", "Device", lambda m: ctk.CTkOptionMenu(
            m, values=["auto", "cpu"], width=110, command=lambda _v: self.changed())).widget
        switches = self._field(body, row + 3, "freeze_backbone", "Options",
                               lambda m: ctk.CTkFrame(m, fg_color="transparent")).widget
        self.freeze = ctk.CTkSwitch(switches, text="Freeze backbone", command=self.changed)
        self.freeze.grid(row=0, column=0, sticky="w")
        self.plots = ctk.CTkSwitch(switches, text="Save Ultralytics plots", command=self.changed)
        self.plots.grid(row=1, column=0, sticky="w", pady=(6, 0))
        self.download = ctk.CTkSwitch(switches, text="Allow downloading official weights", command=self.changed)
        self.download.grid(row=2, column=0, sticky="w", pady=(6, 0))
        self.after(300, self._load_devices)

    def _remembered_config(self) -> TrainingConfig:
        """The choices of the last session (each field kept only if it is still valid), else the defaults
        with the default device from Settings."""
        remembered = self.app.settings.get("last_config") or {}
        values = {"device": self.app.settings.get("default_device")}
        for name, value in remembered.items():
            if name in TrainingConfig.__dataclass_fields__ and name != "data":
                trial = TrainingConfig(**{**values, name: value})
                if not any(field == name for field, _m in trial.problems()):
                    values[name] = value
        config = TrainingConfig(**values)
        return config if not config.problems() else TrainingConfig()

    # ---- reading and writing the widgets --------------------------------------------------------------
    def values(self) -> dict:
        classes = [c.strip() for c in self.classes_entry.get().split(",") if c.strip()]
        kind = self.weights_kind.value
        weights = "scratch" if kind == "scratch" else self.weights_entry.get().strip()
        values = {
            "arch": self.arch.value, "task": self.task.value, "side": self.side.value, "border": self.border.value,
            "classes": classes if self._classes_edited else [], "family": self.family.get(), "size": self.size.get(),
            "weights": weights or "", "optimizer": self.optimizer.get(), "augment": self.augment.value,
            "device": self.device.get(), "freeze_backbone": bool(self.freeze.get()), "plots": bool(self.plots.get()),
            "download_weights": bool(self.download.get()),
        }
        for name, widget in self.numbers.items():
            values[name] = widget.get().strip()
        return values

    def set_config(self, config: TrainingConfig) -> None:
        self.arch.select(config.arch)
        self.task.select(config.task)
        self.side.select(config.side)
        self.border.select(config.border)
        self._classes_edited = bool(config.classes)
        self._show_classes(config.class_names)
        self.family.set(config.family)
        self.size.set(config.size)
        kind = config.weights_kind
        self.weights_kind.select(kind)
        self.weights_entry.delete(0, "end")
        if kind != "scratch":
            self.weights_entry.insert(0, config.weights)
        for name in self.numbers:
            self._write_number(name, getattr(config, name))
        self.app.workstation.forget_touches()
        self.optimizer.set(config.optimizer)
        self.augment.select(config.augment)
        self.device.set(config.device)
        for switch, on in ((self.freeze, config.freeze_backbone), (self.plots, config.plots),
                           (self.download, config.download_weights)):
            switch.select() if on else switch.deselect()
        self._weights_kind_changed(kind, notify=False)
        if self._validate_job is not None:  # a choice made in code (a preset, a restored run) holds at once
            self.after_cancel(self._validate_job)
        self.validate()

    def _show_classes(self, names: list[str]) -> None:
        self.classes_entry.delete(0, "end")
        self.classes_entry.insert(0, ", ".join(names))

    # ---- reactions -----------------------------------------------------------------------------------
    def on_change(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def changed(self) -> None:
        """Re-validate soon (typing bursts validate once)."""
        if self._validate_job is not None:
            self.after_cancel(self._validate_job)
        self._validate_job = self.after(120, self.validate)

    def validate(self) -> TrainingConfig | None:
        self._validate_job = None
        values = self.values()
        self._sync_border_state()
        if not self._classes_edited:
            self._show_classes(default_classes(values["task"], values["border"]))
        try:
            candidate = TrainingConfig(**values)
            self.problems = candidate.problems()
        except TypeError as exc:  # pragma: no cover - every key above is a config field
            self.problems = [("arch", str(exc))]
        else:
            unusable = None if self.problems else official_weights_problem(candidate)
            if unusable:  # marked here, and Start stays off, rather than a run that is "Not started"
                self.problems = [("weights", unusable.replace(f" (--weights /path/to/{candidate.weights})",
                                                              " (My .pt file)"))]
        by_field = {}
        for name, message in self.problems:
            by_field.setdefault(name, message)
        # Ultralytics' optimizer `auto` chooses its own learning rate: said at the field, not only in a log line
        self.fields["lr0"].hint = LR_AUTO_HINT if values["optimizer"] == "auto" else ""
        for name, field in self.fields.items():
            field.set_error(by_field.get(name) or (by_field.get("size") if name == "family" else None))
        self.config = None if self.problems else TrainingConfig.from_dict(values)
        self.app.workstation.set_config(self.config, task=values["task"], border=values["border"])
        self._update_summary()
        self.app.settings.set("last_config", {k: v for k, v in values.items() if k != "weights" or v == "scratch"})
        for callback in self._listeners:
            callback()
        return self.config

    def _update_summary(self) -> None:
        if self.config is None:
            count = len(self.problems)
            self.summary.configure(text=f"{count} setting{'s' if count != 1 else ''} to fix before training: "
                                        + self.problems[0][1], text_color=theme.SEVERITY["error"])
            return
        self.summary.configure(text=describe(self.config), text_color=theme.OK)

    def _sync_border_state(self) -> None:
        """The border type only means something for the border and centering tasks."""
        self.border.configure(state="normal" if self.task.value in ("border", "centering") else "disabled")

    def _write_number(self, name: str, value) -> None:
        widget = self.numbers[name]
        widget.delete(0, "end")
        widget.insert(0, str(value))
        self._written[name] = str(value)

    def _number_typed(self, name: str) -> None:
        if self.numbers[name].get().strip() != self._written.get(name):  # not a Tab or an arrow key
            self.app.workstation.touch(name)
        self.changed()

    def _chosen(self, name: str) -> None:
        self.app.workstation.touch(name)
        self.changed()

    def _task_changed(self, task: str) -> None:
        """The task's profile fills the hyper-parameters the grader has not set by hand, and says so."""
        self._sync_border_state()
        updates, sentence = self.app.workstation.task_changed(task, self.values())
        for name, value in updates.items():
            if name in self.numbers:
                self._write_number(name, value)
            elif name == "augment":
                self.augment.select(value)
            elif name == "optimizer":
                self.optimizer.set(value)
        if task == "centering":
            self.border.select("dual")
        self.task_note.configure(text=sentence)
        self.changed()

    def _border_changed(self, _value: str) -> None:
        self.changed()

    def _classes_typed(self) -> None:
        self._classes_edited = True
        self.changed()

    def _reset_classes(self) -> None:
        self._classes_edited = False
        self.changed()

    def _weights_kind_changed(self, kind: str, notify: bool = True) -> None:
        state = "disabled" if kind == "scratch" else "normal"
        self.weights_entry.configure(state="normal")
        if kind == "scratch":  # from scratch uses no file: the field shows none
            self.weights_entry.delete(0, "end")
        self.weights_entry.configure(state=state)
        self.weights_browse.configure(state="normal" if kind == "file" else "disabled")
        if kind == "official" and not self.weights_entry.get().strip():
            arch_suffix = {"detect": "", "segment": "-seg", "obb": "-obb"}[self.arch.value or "detect"]
            self.weights_entry.insert(0, f"{self.family.get()}{self.size.get()}{arch_suffix}.pt")
        if notify:
            self.changed()

    def _browse_weights(self) -> None:
        path = filedialog.askopenfilename(parent=self, title="Choose weights", filetypes=[("PyTorch weights", "*.pt")])
        if path:
            self.weights_entry.delete(0, "end")
            self.weights_entry.insert(0, path)
            self.changed()

    def devices(self) -> list[str]:
        """The devices this computer offers (auto and cpu until the look-up has answered)."""
        return list(self.device.cget("values"))

    def _load_devices(self) -> None:
        from cardgrader.gui.tasks import BackgroundTask

        def done(devices: list[str]) -> None:
            self.device.configure(values=devices)
            default = self.app.settings.get("default_device")
            if self.device.get() not in devices:
                self.device.set(default if default in devices else "auto")
            self.changed()  # what `auto` means (and so the run's expected duration) may have changed

        BackgroundTask(self, lambda _r, _c: detect_devices(), on_done=done).start()

    # ---- presets -------------------------------------------------------------------------------------
    @staticmethod
    def _preset_names() -> list[str]:
        return [p.name for p in presets.list_presets()]

    def _apply_preset(self, name: str) -> None:
        if self.use_preset(name):
            self.app.show_message(f"Preset '{name}' applied: exactly its values, as `--preset {name}` trains.", "info")

    def use_preset(self, name: str) -> bool:
        """Train exactly preset `name`, as `cardgrader train --preset NAME` does: the defaults and what the
        preset sets (architecture, side and border included), whatever was chosen before. Only the device
        stays the grader's."""
        try:
            config = presets.load_preset(name).updated(device=self.device.get())
        except UserError as exc:
            self.app.report_error(exc)
            return False
        self.set_config(config)
        self.task_note.configure(text="")
        self.preset.set(name)
        return True

    def _save_preset(self) -> None:
        if self.config is None:
            self.app.show_message("Fix the marked settings before saving them as a preset.", "error")
            return
        from cardgrader.gui.dialogs import ask_text

        chosen = self.preset.get()
        mine = {p.name for p in presets.list_presets() if not p.builtin}
        name = ask_text(self.winfo_toplevel(), "Save preset", "Name for your preset (letters, digits, - and _):",
                        initial=chosen if chosen in mine else "", ok="Save")
        if not name:
            return
        if name in mine and not self.app.confirm("Replace preset", f"You already have a preset named '{name}'. "
                                                 "Replace it with these settings?", yes="Replace"):
            return
        try:
            presets.save_preset(name, self.config)
        except UserError as exc:
            self.app.report_error(exc)
            return
        self.preset.configure(values=self._preset_names())
        self.preset.set(name)
        self.app.show_message(f"Saved preset '{name}'.", "info")

    def _delete_preset(self) -> None:
        name = self.preset.get()
        mine = {p.name for p in presets.list_presets() if not p.builtin}
        if name not in mine:
            self.app.show_message("Choose one of your own presets to delete; the built-in ones stay.", "error")
            return
        if not self.app.confirm("Delete preset", f"Delete your preset '{name}'? This cannot be undone.", yes="Delete"):
            return
        try:
            presets.delete_preset(name)
        except UserError as exc:
            self.app.report_error(exc)
            return
        self.preset.configure(values=self._preset_names())
        self.preset.set("choose…")
        self.app.show_message(f"Deleted preset '{name}'.", "info")

    def _import_preset(self) -> None:
        path = filedialog.askopenfilename(parent=self, title="Import a preset", filetypes=[("YAML", "*.yaml *.yml")])
        if not path:
            return
        try:
            preset = presets.import_preset(path)
        except UserError as exc:
            self.app.report_error(exc)
            return
        self.preset.configure(values=self._preset_names())
        self._apply_preset(preset.name)
        self.preset.set(preset.name)

    def _export_preset(self) -> None:
        name = self.preset.get()
        if name not in self._preset_names():
            self.app.show_message("Choose or save a preset first, then export it.", "error")
            return
        path = filedialog.asksaveasfilename(parent=self, title="Export preset", defaultextension=".yaml",
                                            initialfile=f"{name}.yaml", filetypes=[("YAML preset", "*.yaml *.yml")])
        if path:
            presets.export_preset(name, path)
            self.app.show_message(f"Exported '{name}' to {path}.", "info")

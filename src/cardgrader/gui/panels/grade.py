"""The Grade panel: drop a card's front photo (and its back, if you like), press Grade, and see its
centering, the bands each company's table gives, the findings and the overall estimate.

The models run in a child process (torch never loads into the window's process). The photo is shown with
its eight border lines, which the grader can drag: the numbers and bands follow at once, and the lines
moved are kept in the report as `manual`. Reports are saved into the app's data folder (`grades/`), and
corrected lines can be saved as training labels (`corrections/`) — never next to the grader's photos."""

from __future__ import annotations

from pathlib import Path
from tkinter import filedialog

import customtkinter as ctk

from cardgrader.errors import Cancelled, UserError
from cardgrader.gui import theme
from cardgrader.gui.tasks import BackgroundTask
from cardgrader.gui.widgets import Choice, fit_name, panel_header, show_progress

ACTIVE_BORDER = "Active border model"
SECONDARY = dict(fg_color=("gray80", "gray30"), hover_color=("gray70", "gray25"), text_color=("gray10", "gray90"),
                 text_color_disabled=("gray55", "gray50"))  # buttons beside the main one, readable in both themes
SIDES = {"front": "Front", "back": "Back"}
COMPANY_NAMES = {"psa": "PSA", "bgs": "BGS", "cgc": "CGC"}
ROWS = (("centering", "Centering"), ("corners", "Corners"), ("edges", "Edges"), ("surface", "Surface"))


def nice(line_name: str) -> str:
    return line_name.replace("_", " ")


def photos_in(paths: list[str]) -> tuple[list[str], list[str]]:
    from cardgrader.gui.panels.predict import photos_in as found  # one reader of dropped files and folders

    return found(paths)


class GradePanel(ctk.CTkFrame):
    def __init__(self, master, app):
        super().__init__(master, fg_color="transparent")
        self.app = app
        self.front: str | None = None
        self.back: str | None = None
        self.card = None  # graded_card.GradedCard of the card on show
        self.side = "front"
        self.task: BackgroundTask | None = None
        self.saving: BackgroundTask | None = None
        self.border_models: dict[str, str] = {}  # menu text -> library label
        self._arrays: dict[str, object] = {}  # side -> RGB array of its photo (as the models saw it)
        self.grid_columnconfigure(0, weight=1)
        self.grid_rowconfigure(2, weight=1)

        panel_header(self, "Grade", "Drop a card's front photo (and its back, if you like) and press Grade. Drag any "
                                    "border line on the photo to correct it: the numbers follow as you drag.")
        self._build_controls()
        self._build_results()
        self._register_drop_targets()
        self.border_menu.bind("<Map>", lambda _e: self.refresh_models(), add="+")  # the library may have changed
        self.refresh_models()
        self._show_card()

    # ---- layout --------------------------------------------------------------------------------------
    def _build_controls(self) -> None:
        bar = ctk.CTkFrame(self, fg_color=theme.CARD, corner_radius=10)
        bar.grid(row=1, column=0, sticky="ew", padx=6, pady=(0, 6))
        bar.grid_columnconfigure(9, weight=1)
        self.bar = bar
        pad = dict(pady=(12, 4))
        self.slot_labels: dict[str, ctk.CTkLabel] = {}
        for column, (slot, empty) in zip((0, 3), (("front", "no photo yet"), ("back", "optional"))):
            ctk.CTkLabel(bar, text=slot.title(), font=theme.font(13, "bold")).grid(
                row=0, column=column, padx=(14 if slot == "front" else 0, 8), **pad)
            button = ctk.CTkButton(bar, text=f"Choose {slot}…", width=120, command=lambda s=slot: self.browse(s))
            button.grid(row=0, column=column + 1, **pad)
            label = ctk.CTkLabel(bar, text=empty, width=130 if slot == "front" else 100, anchor="w",
                                 text_color=theme.MUTED, font=theme.font(12))
            label.grid(row=0, column=column + 2, padx=(8, 12 if slot == "front" else 0), **pad)
            setattr(self, f"{slot}_button", button)
            self.slot_labels[slot] = label
        self.front_label, self.back_label = self.slot_labels["front"], self.slot_labels["back"]
        self.clear_back_button = ctk.CTkButton(bar, text="✕", width=28, command=self.clear_back, state="disabled",
                                               fg_color="transparent", hover_color=("gray80", "gray25"),
                                               text_color=("gray10", "gray90"))
        self.clear_back_button.grid(row=0, column=6, padx=(2, 12), **pad)
        self.grade_button = ctk.CTkButton(bar, text="Grade", width=100, command=self.grade, state="disabled")
        self.grade_button.grid(row=0, column=7, **pad)
        self.cancel_button = ctk.CTkButton(bar, text="Cancel", width=80, command=self.cancel, state="disabled",
                                           **SECONDARY)
        self.cancel_button.grid(row=0, column=8, padx=(8, 14), **pad)

        models = ctk.CTkFrame(bar, fg_color="transparent")
        models.grid(row=1, column=0, columnspan=10, sticky="ew", padx=14, pady=(2, 0))
        ctk.CTkLabel(models, text="Border model", font=theme.font(12)).grid(row=0, column=0, padx=(0, 8))
        self.border_menu = ctk.CTkOptionMenu(models, values=[ACTIVE_BORDER], width=300, dynamic_resizing=False,
                                             font=theme.font(12))
        self.border_menu.grid(row=0, column=1)
        ctk.CTkLabel(models, text="Corners, edges and surface use their active models.", text_color=theme.MUTED,
                     font=theme.font(12)).grid(row=0, column=2, padx=(12, 0))
        self.progress = ctk.CTkProgressBar(bar, height=8)
        show_progress(self.progress, 0.0)
        self.progress.grid(row=2, column=0, columnspan=10, sticky="ew", padx=14, pady=(8, 0))
        self.status = ctk.CTkLabel(bar, text="", text_color=theme.MUTED, anchor="w", font=theme.font(12),
                                   justify="left", wraplength=1000)
        self.status.grid(row=3, column=0, columnspan=10, sticky="ew", padx=14, pady=(2, 8))

    def _build_results(self) -> None:
        area = ctk.CTkFrame(self, fg_color="transparent")
        area.grid(row=2, column=0, sticky="nsew", padx=6, pady=(0, 6))
        area.grid_columnconfigure(0, weight=1)
        area.grid_rowconfigure(0, weight=1)
        self.area = area

        from cardgrader.gui.centering_view import CenteringView

        self.view = CenteringView(area, on_change=self._lines_moved)
        self.view.grid(row=0, column=0, sticky="nsew", padx=(0, 6))
        self.canvas = self.view.canvas
        self.side_choice = Choice(self.view.tools, SIDES, command=self.show_side)
        self.side_choice.select("front")
        self.side_choice.grid(row=0, column=0)
        self.reset_button = ctk.CTkButton(self.view.tools, text="Reset lines", width=100, command=self.reset_lines,
                                          state="disabled", **SECONDARY)
        self.reset_button.grid(row=0, column=2, padx=(10, 0))

        results = ctk.CTkScrollableFrame(area, width=360, fg_color=theme.CARD, corner_radius=10)
        results.grid(row=0, column=1, sticky="nsew")
        results.grid_columnconfigure(0, weight=1)
        self.results = results
        self._build_numbers(results)

    def _build_numbers(self, parent) -> None:
        save = ctk.CTkFrame(parent, fg_color="transparent")
        save.grid(row=0, column=0, sticky="ew", padx=8, pady=(8, 2))
        save.grid_columnconfigure(0, weight=1)
        self.save_button = ctk.CTkButton(save, text="Save report", command=self.save_report, state="disabled")
        self.save_button.grid(row=0, column=0, sticky="ew")
        self.save_as_button = ctk.CTkButton(save, text="Save to…", width=84, command=self.save_report_as,
                                            state="disabled", **SECONDARY)
        self.save_as_button.grid(row=0, column=1, padx=(6, 0))
        self.labels_button = ctk.CTkButton(save, text="Save corrections as training labels",
                                           command=self.save_corrections, state="disabled",
                                           **SECONDARY)
        self.labels_button.grid(row=1, column=0, columnspan=2, sticky="ew", pady=(6, 0))
        self.saved_label = ctk.CTkLabel(save, text="", text_color=theme.MUTED, font=theme.font(11), anchor="w",
                                        justify="left", wraplength=340)
        self.saved_label.grid(row=2, column=0, columnspan=2, sticky="ew", pady=(4, 0))

        self.centering_title = self._title(parent, 1, "Centering")
        grid = ctk.CTkFrame(parent, fg_color="transparent")
        grid.grid(row=2, column=0, sticky="ew", padx=12)
        grid.grid_columnconfigure(1, weight=1)
        self.numbers: dict[str, ctk.CTkLabel] = {}
        for row, (key, text, worst) in enumerate((("lr", "Left / right", "lr_worst"), ("tb", "Top / bottom", "tb_worst"),
                                                  ("widths", "Border widths", None), ("angle", "Rotation", None))):
            ctk.CTkLabel(grid, text=text, font=theme.font(12), text_color=theme.MUTED, anchor="w").grid(
                row=row, column=0, sticky="w", padx=(0, 10))
            big = worst is not None
            self.numbers[key] = ctk.CTkLabel(grid, text="–", anchor="w",
                                             font=theme.font(17, "bold") if big else theme.mono_font(12))
            self.numbers[key].grid(row=row, column=1, columnspan=1 if worst else 2, sticky="w")
            if worst:
                self.numbers[worst] = ctk.CTkLabel(grid, text="–", anchor="e", font=theme.font(12),
                                                   text_color=theme.MUTED)
                self.numbers[worst].grid(row=row, column=2, sticky="e")
        self.lines_label = ctk.CTkLabel(parent, text="", text_color=theme.MUTED, font=theme.font(11), anchor="w",
                                        justify="left", wraplength=340)
        self.lines_label.grid(row=3, column=0, sticky="ew", padx=12, pady=(2, 0))

        self._title(parent, 4, "Grade estimate")
        table = ctk.CTkFrame(parent, fg_color="transparent")
        table.grid(row=5, column=0, sticky="ew", padx=12)
        for column in range(1, 4):
            table.grid_columnconfigure(column, weight=1, uniform="company")
        self.cells: dict[tuple[str, str], ctk.CTkLabel] = {}
        for column, company in enumerate(COMPANY_NAMES, start=1):
            ctk.CTkLabel(table, text=COMPANY_NAMES[company], font=theme.font(12, "bold")).grid(row=0, column=column)
        for row, (category, text) in enumerate(ROWS + (("overall", "Overall"),), start=1):
            ctk.CTkLabel(table, text=text, font=theme.font(12, "bold" if category == "overall" else "normal"),
                         anchor="w").grid(row=row, column=0, sticky="w", padx=(0, 10), pady=(6 if category == "overall"
                                                                                              else 0, 0))
            for column, company in enumerate(COMPANY_NAMES, start=1):
                cell = ctk.CTkLabel(table, text="–", font=theme.font(13, "bold" if category == "overall" else "normal"))
                cell.grid(row=row, column=column, pady=(6 if category == "overall" else 0, 0))
                self.cells[(category, company)] = cell
        self.limits_label = ctk.CTkLabel(parent, text="", font=theme.font(12), anchor="w", justify="left",
                                         wraplength=340)
        self.limits_label.grid(row=6, column=0, sticky="ew", padx=12, pady=(4, 0))

        self._title(parent, 7, "Findings (front)")
        self.findings_label = ctk.CTkLabel(parent, text="", font=theme.font(12), anchor="w", justify="left",
                                           wraplength=340)
        self.findings_label.grid(row=8, column=0, sticky="ew", padx=12)
        self._title(parent, 9, "Notes")
        self.notes_label = ctk.CTkLabel(parent, text="", font=theme.font(12), anchor="w", justify="left",
                                        text_color=theme.MUTED, wraplength=340)
        self.notes_label.grid(row=10, column=0, sticky="ew", padx=12, pady=(0, 10))

    def _title(self, parent, row: int, text: str) -> ctk.CTkLabel:
        label = ctk.CTkLabel(parent, text=text, font=theme.font(14, "bold"), anchor="w")
        label.grid(row=row, column=0, sticky="ew", padx=12, pady=(12, 2))
        return label

    def _register_drop_targets(self) -> None:
        if self.app.dnd_version is None:
            return
        from tkinterdnd2 import DND_FILES

        for widget, slot in ((self, None), (self.area, None), (self.view, None), (self.canvas, None),
                             (self.bar, None), (self.front_label, "front"), (self.front_button, "front"),
                             (self.back_label, "back"), (self.back_button, "back")):
            widget.drop_target_register(DND_FILES)
            widget.dnd_bind("<<Drop>>", lambda event, s=slot: self._on_drop(event, s))

    # ---- models ----------------------------------------------------------------------------------------
    def refresh_models(self) -> None:
        from cardgrader.models.library import ModelLibrary

        chosen = self.border_menu.get()
        try:
            models = [m for m in ModelLibrary().list() if "outer_border" in m.classes]
        except UserError as exc:
            self.say(str(exc), "error")
            models = []
        self.border_models = {f"{m.label}{'  ·  active' if m.active else ''}": m.label for m in models}
        self.border_menu.configure(values=[ACTIVE_BORDER, *self.border_models])
        self.border_menu.set(chosen if chosen in self.border_models else ACTIVE_BORDER)

    def chosen_models(self) -> dict[str, str | None]:
        """What `load_models` is given: the border model picked, else each line's active model."""
        return {"border": self.border_models.get(self.border_menu.get())}

    # ---- photos in -----------------------------------------------------------------------------------
    def _on_drop(self, event, slot: str | None) -> str:
        self.add_paths([p for p in self.tk.splitlist(event.data) if p], slot)  # paths with spaces come in braces
        return event.action

    def browse(self, slot: str) -> None:
        file = filedialog.askopenfilename(parent=self, title=f"Choose the card's {slot} photo", filetypes=[
            ("Images", "*.jpg *.jpeg *.png *.bmp *.tif *.tiff *.webp"), ("All files", "*")])
        if file:
            self.add_paths([file], slot)

    def add_paths(self, paths: list[str], slot: str | None = None) -> None:
        """Photos dropped or chosen: one is the front (or the back, dropped on the back's place); two are a
        front and its back (the one whose name says `back` is the back)."""
        photos, skipped = photos_in(paths)
        if not photos:
            names = ", ".join(skipped[:4]) or "nothing"
            self.say(f"Nothing to grade: {names} {'is' if len(skipped) == 1 else 'are'} not a photo. Drop a card's "
                     "front photo (a .jpg, .png, .tif …).", "error")
            return
        if len(photos) > 2:
            self.say(f"Drop one card at a time: its front photo and, if you like, its back ({len(photos)} photos "
                     "came).", "error")
            return
        if len(photos) == 2:
            first, second = photos
            if "back" in Path(first).stem.lower() and "back" not in Path(second).stem.lower():
                first, second = second, first
            self.front, self.back = first, second
        elif slot == "back":
            self.back = photos[0]
        else:
            self.front = photos[0]
        self._photos_changed()
        ready = "Press Grade." if self.front else "Now the front photo, then press Grade."
        self.say(f"{'Front ' + Path(self.front).name if self.front else 'No front yet'}"
                 f"{' and back ' + Path(self.back).name if self.back else ''}. {ready}")

    def clear_back(self) -> None:
        self.back = None
        self._photos_changed()

    def _photos_changed(self) -> None:
        self.front_label.configure(text=fit_name(self.front_label, self.front) if self.front else "no photo yet",
                                   text_color=("gray10", "gray90") if self.front else theme.MUTED)
        self.back_label.configure(text=fit_name(self.back_label, self.back) if self.back else "optional",
                                  text_color=("gray10", "gray90") if self.back else theme.MUTED)
        self._buttons()

    # ---- grading -------------------------------------------------------------------------------------
    def grade(self) -> None:
        from cardgrader.gui.grading_jobs import grade_photos
        from cardgrader.gui.offload import run_in_process

        if self.front is None:
            self.say("Choose or drop the card's front photo first.", "error")
            return
        self.cancel(quiet=True)
        front, back, models = self.front, self.back, self.chosen_models()

        def job(report, cancel):  # a worker thread: the photos are read here, the models run in a child
            import numpy as np

            from cardgrader.models.predict import read_image  # the reader the models' process uses

            report(None, f"Reading {Path(front).name}…")
            arrays = {side: np.ascontiguousarray(read_image(path)[..., ::-1])
                      for side, path in (("front", front), ("back", back)) if path}
            graded = run_in_process(grade_photos, front, back, models, cancel=cancel,
                                    report=lambda text: report(None, text))
            return graded, arrays

        def current(callback):  # a replaced or cancelled grading's late messages change nothing
            return lambda *args: callback(*args) if self.task is task else None

        def progress(_fraction, text) -> None:
            self.say(text)

        def finished(value) -> None:
            from cardgrader.gui.graded_card import GradedCard

            graded, arrays = value
            self.task = None
            show_progress(self.progress, 1.0)
            self._arrays = arrays
            self.card = GradedCard(graded)
            self.side = "front"
            self.side_choice.select("front")
            self._show_card()
            self.say(self._graded_sentence())

        def failed(exc: BaseException, _trace: str) -> None:
            self.task = None
            show_progress(self.progress, 0.0)
            self._buttons()
            if isinstance(exc, Cancelled):
                self.say("Grading stopped; nothing was written.")
                return
            text = self.app.report_error(exc)
            self.say(text, "error")
            if isinstance(exc, UserError):  # nothing to show: the card view says why
                self.card, self._arrays, self.side = None, {}, "front"
                self.side_choice.select("front")
                self._show_card(text)

        task = BackgroundTask(self, job, on_done=current(finished), on_error=current(failed),
                              on_progress=current(progress))
        self.task = task
        task.start()
        show_progress(self.progress, None)
        self._buttons()
        if self.card is None:
            self._show_card()  # "Grading…" where the photo will be
        self.say(f"Grading {Path(front).name}{' and ' + Path(back).name if back else ''}…")

    def cancel(self, quiet: bool = False) -> None:
        if self.task is None:
            return
        self.task.cancel()  # ends the child process at once
        self.task = None
        show_progress(self.progress, 0.0)
        self._buttons()
        if not quiet:
            self.say("Grading stopped; nothing was written.")

    def _graded_sentence(self) -> str:
        report = self.card.report
        overall = [f"{COMPANY_NAMES[c]} {o['grade']}" for c in COMPANY_NAMES if (o := self.card.overall(c)).get("grade")]
        problems = [f"{side}: {c['error']}" for side in self.card.sides if "error" in (c := self.card.centering(side) or {})]
        text = f"Graded {report.get('card')}: " + (", ".join(overall) if overall else "no grade could be estimated")
        text += ". " + (" ".join(problems) if problems else "Drag a line to correct it; Save report keeps the result.")
        return text

    # ---- what is shown ---------------------------------------------------------------------------------
    def show_side(self, side: str) -> None:
        if self.card is None or side not in self.card.sides:
            self.side_choice.select(self.side)
            return
        self.side = side
        self._show_card()

    def _show_card(self, problem: str | None = None) -> None:
        self._buttons()
        self.update_numbers()
        message = problem or ("Grading…" if self.task else "Drop a card's front photo here\n(and its back, if you "
                                                           "like), then press Grade")
        self.view.show(self.card, self.side, self._arrays.get(self.side), message, error=problem is not None)

    def update_numbers(self) -> None:
        """The numbers, bands, findings and notes of the card on show (cheap: called on every drag step)."""
        from cardgrader.gui.graded_card import CATEGORIES, split

        card = self.card
        centering = card.centering(self.side) if card else None
        self.centering_title.configure(text=f"Centering — {self.side}" if card else "Centering")
        if centering and "error" not in centering:
            w = centering["borders_px"]
            values = {"lr": split(centering["lr"]), "tb": split(centering["tb"]),
                      "lr_worst": f"worst point {split(centering['lr_worst'])}",
                      "tb_worst": f"worst point {split(centering['tb_worst'])}",
                      "widths": f"L {w['left']:.1f}  R {w['right']:.1f}  T {w['top']:.1f}  B {w['bottom']:.1f} px",
                      "angle": f"{centering['angle_deg']:.2f}°"}
            manual = centering.get("manual") or []
            how = "refined to sub-pixel edges" if centering.get("refined") else "from the model only"
            text = f"Lines {how}." + (f" Corrected by hand: {', '.join(map(nice, manual))}." if manual else "")
            self.lines_label.configure(text=text, text_color=theme.MUTED)
        else:
            values = {key: "" if key.endswith("worst") else "–" for key in self.numbers}
            message = (centering or {}).get("error") or ("no border model measured this side (see Notes)." if card
                                                           else None)
            self.lines_label.configure(text=f"Not measured: {message}" if message else "",
                                       text_color=theme.SEVERITY["warning"] if message else theme.MUTED)
        for key, label in self.numbers.items():
            label.configure(text=values[key])

        limits = []
        for company in COMPANY_NAMES:
            for category, _text in ROWS:
                band = card.band(category, company) if card else {}
                self.cells[(category, company)].configure(text=str(band.get("grade") or "–"))
            overall = card.overall(company) if card else {}
            grade = overall.get("grade")
            self.cells[("overall", company)].configure(text=str(grade or "–"))
            if grade:
                label = f" {overall['label']}" if overall.get("label") else ""
                limits.append(f"{COMPANY_NAMES[company]} {grade}{label}: limited by {overall.get('limited_by')}")
            elif card:
                limits.append(f"{COMPANY_NAMES[company]}: {overall.get('limited_by') or 'no estimate'}")
        centering_limits = sorted({str(b.get("limited_by")) for c in COMPANY_NAMES
                                   if (b := card.band("centering", c) if card else {}).get("limited_by")})
        if centering_limits:
            limits.append("Centering set by " + ", ".join(centering_limits) + " (published tables).")
        self.limits_label.configure(text="\n".join(limits))

        found = []
        for category in CATEGORIES:
            if card is None:
                break
            findings = card.findings(category)
            sub = card.band(category, "psa")
            if findings is None:
                found.append(f"{category.title()}: {sub.get('reason') or 'not assessed'}.")
            elif not findings:
                found.append(f"{category.title()}: nothing found.")
            else:
                counts: dict[str, list[float]] = {}
                for f in findings:
                    counts.setdefault(f["class"], []).append(f["confidence"])
                found.append(f"{category.title()}: " + "; ".join(
                    f"{len(v)} × {name} ({', '.join(f'{c:.2f}' for c in sorted(v, reverse=True)[:3])})"
                    for name, v in counts.items()))
        self.findings_label.configure(text="\n".join(found) if found else "–")
        notes = list(card.report.get("notes") or []) if card else []
        self.notes_label.configure(text="\n".join(f"• {n}" for n in notes) if notes else ("None." if card else "–"))
        self._show_saved()

    def _show_saved(self) -> None:
        card, lines = self.card, []
        if card is not None and card.saved_to:
            lines.append(f"Report saved in {card.saved_to}" + (" — changed since: save again to keep the change."
                                                                 if card.changed_since_save else "."))
        if card is not None and card.labels_saved_to:
            lines.append(f"Training labels saved in {card.labels_saved_to}.")
        self.saved_label.configure(text="\n".join(lines))
        self.saved_label.grid() if lines else self.saved_label.grid_remove()

    def _buttons(self) -> None:
        busy = self.task is not None
        saving = self.saving is not None
        has_lines = self.card is not None and any(self.card.lines(s) is not None for s in self.card.sides)
        self.grade_button.configure(state="normal" if self.front and not busy else "disabled")
        self.cancel_button.configure(state="normal" if busy else "disabled")
        self.clear_back_button.configure(state="normal" if self.back else "disabled")
        self.save_button.configure(state="normal" if self.card is not None and not saving else "disabled")
        self.save_as_button.configure(state="normal" if self.card is not None and not saving else "disabled")
        self.labels_button.configure(state="normal" if has_lines and not saving else "disabled")
        self.reset_button.configure(state="normal" if self.card is not None and self.card.corrected else "disabled")
        sides = self.card.sides if self.card else ["front"]
        self.side_choice.configure(state="normal" if len(sides) > 1 else "disabled")

    def say(self, text: str, level: str = "info") -> None:
        self.status.configure(text=text, text_color=theme.SEVERITY[level] if level != "info" else theme.MUTED)

    def _lines_moved(self, event: str, line: str, problem: str | None) -> None:
        """The view moved a line (`drag`), let go of it (`release`) or put it back (`cancel`)."""
        if event == "drag" and problem:
            self.say(f"Not there: {problem}", "warning")
            return
        self.update_numbers()
        self._buttons()
        if event == "cancel":
            self.say(f"The {nice(line)} line is back where it was.")
        elif event == "release" and problem:
            self.say(f"The {nice(line)} line went back to its last good place: {problem}", "warning")
        else:
            self.say(self._drag_sentence(line) + (" Save report keeps the correction." if event == "release" else ""))

    def _drag_sentence(self, name: str) -> str:
        from cardgrader.gui.graded_card import split

        centering = self.card.centering(self.side)
        return f"{nice(name).capitalize()} moved: L/R {split(centering['lr'])}, T/B {split(centering['tb'])}."

    def reset_lines(self) -> None:
        if self.card is None:
            return
        self.card.reset()
        self._show_card()
        self.say("Every line is back where the models put it.")

    # ---- saving ----------------------------------------------------------------------------------------
    def save_report(self, folder: str | None = None) -> None:
        from cardgrader.gui.grading_jobs import save_report

        self._save(lambda report: save_report(report, folder), self._saved_report)

    def save_report_as(self) -> None:
        from cardgrader.gui.grading_jobs import grades_dir

        folder = filedialog.askdirectory(parent=self, title="Save the report into", initialdir=str(grades_dir()),
                                         mustexist=False)
        if folder:
            self.save_report(folder)

    def save_corrections(self) -> None:
        from cardgrader.gui.grading_jobs import save_training_labels

        self._save(save_training_labels, self._saved_labels)

    def _save(self, write, done) -> None:
        """Write on a worker (it reads the photo again for the report's pictures); the report handed over is
        a copy, so a drag meanwhile changes the next save, not this one."""
        import copy

        if self.card is None or self.saving is not None:
            return
        report = copy.deepcopy(self.card.report)

        def finished(result) -> None:
            self.saving = None
            self._buttons()
            done(result)

        def failed(exc: BaseException, _trace: str) -> None:
            self.saving = None
            self._buttons()
            self.say(self.app.report_error(exc), "error")

        self.saving = BackgroundTask(self, lambda _r, _c: write(report), on_done=finished, on_error=failed).start()
        self._buttons()
        self.say("Saving…")

    def _saved_report(self, result: dict) -> None:
        self.card.saved_to = result["folder"]
        self.card.changed_since_save = False
        self._show_saved()
        self.say(f"Saved report.json and report.html in {result['folder']}.")

    def _saved_labels(self, result: dict) -> None:
        pieces = []
        for entry in result["written"]:
            moved = entry["manual"]
            pieces.append(f"{Path(entry['image']).name} ({entry['side']}, "
                          + (f"{len(moved)} line{'s' if len(moved) != 1 else ''} corrected" if moved
                             else "lines as measured") + ")")
        self.card.labels_saved_to = result["folder"]
        self._show_saved()
        self.say(f"Saved {' and '.join(pieces)} with outer and inner border labels into {result['folder']}; "
                 "the Data panel's My corrections button adds them to your data.")

    def apply_theme(self) -> None:
        self.view.apply_theme()

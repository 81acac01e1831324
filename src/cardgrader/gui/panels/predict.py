"""The Predict panel: drop card photos (or choose them), pick a library model, and see what it finds.

The model runs once, in a child process (torch never loads into the window's process), and returns every
detection down to 1 % confidence as plain data; the confidence slider only filters and redraws those.
Overlays are drawn at the photo's own size and shown fitted or at 100 % in a scrollable view."""

from __future__ import annotations

import queue
from pathlib import Path
from tkinter import filedialog
import tkinter

import customtkinter as ctk
from PIL import Image, ImageTk

from cardgrader.errors import UserError
from cardgrader.gui import theme
from cardgrader.gui.predictions import DEFAULT_CONF, FLOOR, PhotoPrediction, PredictionSet
from cardgrader.gui.tasks import BackgroundTask
from cardgrader.gui.widgets import Choice, show_progress, panel_header

NO_MODEL = "(no model in the library yet)"
REDRAW_MS = 40  # slider moves are gathered: one redraw per pause, not one per pixel
ZOOMS = {"fit": "Fit", "full": "100 %"}


def scaled(detection, scale: float):
    """A detection in the pixels of the photo resized by `scale`."""
    from dataclasses import replace

    def points(values):
        return None if values is None else [[x * scale, y * scale] for x, y in values]

    return replace(detection, box=[v * scale for v in detection.box], polygon=points(detection.polygon),
                   corners=points(detection.corners))


def photos_in(paths: list[str]) -> tuple[list[str], list[str]]:
    """The image files among dropped files and folders (folders are searched), and what was left out."""
    from cardgrader.data.layout import is_image, list_images

    photos, skipped = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = [str(p) for p in list_images(path)]
            photos += found
            if not found:
                skipped.append(path.name)
        elif is_image(path):
            photos.append(str(path))
        else:
            skipped.append(path.name)
    return list(dict.fromkeys(photos)), skipped


class PredictPanel(ctk.CTkFrame):
    def __init__(self, master, app):
        super().__init__(master, fg_color="transparent")
        self.app = app
        self.models: dict[str, str] = {}  # menu text -> library label (name@version)
        self.packages: dict[str, str] = {}  # library label -> package folder
        self.classes: dict[str, list[str]] = {}
        self.prediction: PredictionSet | None = None
        self.task: BackgroundTask | None = None
        self.current: str | None = None  # the photo in the viewer
        self.predictions_run = 0  # model runs started (the slider must never add one)
        self.draws = 0  # overlays drawn
        self.drawn = 0  # detections in the overlay on screen
        self._rows: dict[str, ctk.CTkButton] = {}
        self._base: tuple[str, object] | None = None  # (photo, RGB array) of the photo in the viewer
        self._fit_cache: tuple | None = None  # (photo, size, RGB array) of it resized to fit the view
        self._redraw_job = None
        self._picture = None
        self.grid_columnconfigure(0, weight=1)
        self.grid_rowconfigure(2, weight=1)

        panel_header(self, "Predict", "Drop card photos (or folders of them) anywhere here and see what a model finds. It "
                                      "runs once and keeps everything above 1 % confidence, so the slider filters at once.")
        self._build_controls()
        self._build_results()
        self._register_drop_targets()
        self.model_menu.bind("<Map>", lambda _e: self.refresh_models(), add="+")  # shown: the library may have changed
        self.refresh_models()

    # ---- layout --------------------------------------------------------------------------------------
    def _build_controls(self) -> None:
        bar = ctk.CTkFrame(self, fg_color=theme.CARD, corner_radius=10)
        bar.grid(row=1, column=0, sticky="ew", padx=6, pady=(0, 6))
        bar.grid_columnconfigure(5, weight=1)
        ctk.CTkLabel(bar, text="Model", font=theme.font(13, "bold")).grid(row=0, column=0, padx=(14, 8), pady=(12, 4))
        self.model_menu = ctk.CTkOptionMenu(bar, values=[NO_MODEL], width=360, dynamic_resizing=False,
                                            command=lambda _v: self._model_changed())
        self.model_menu.grid(row=0, column=1, pady=(12, 4), sticky="w")
        self.choose_button = ctk.CTkButton(bar, text="Choose photos…", width=130, command=self.browse)
        self.choose_button.grid(row=0, column=2, padx=(12, 0), pady=(12, 4))
        self.again_button = ctk.CTkButton(bar, text="Run again", width=100, command=self.run_again, state="disabled")
        self.again_button.grid(row=0, column=3, padx=(8, 0), pady=(12, 4))
        self.cancel_button = ctk.CTkButton(bar, text="Cancel", width=80, command=self.cancel, state="disabled",
                                           fg_color=("gray70", "gray30"), hover_color=("gray60", "gray25"))
        self.cancel_button.grid(row=0, column=4, padx=(8, 0), pady=(12, 4))
        self.progress = ctk.CTkProgressBar(bar, height=8)
        show_progress(self.progress, 0.0)
        self.progress.grid(row=1, column=0, columnspan=6, sticky="ew", padx=14, pady=(6, 0))
        self.status = ctk.CTkLabel(bar, text="Choose a model, then drop photos.", text_color=theme.MUTED, anchor="w",
                                   font=theme.font(12), justify="left", wraplength=1000)
        self.status.grid(row=2, column=0, columnspan=6, sticky="ew", padx=14, pady=(2, 8))

    def _build_results(self) -> None:
        area = ctk.CTkFrame(self, fg_color="transparent")
        area.grid(row=2, column=0, sticky="nsew", padx=6, pady=(0, 6))
        area.grid_columnconfigure(1, weight=1)
        area.grid_rowconfigure(0, weight=1)
        self.area = area
        self.photo_list = ctk.CTkScrollableFrame(area, width=250, fg_color=theme.CARD, corner_radius=10,
                                                 label_text="Photos", label_font=theme.font(13, "bold"))
        self.photo_list.grid(row=0, column=0, sticky="nsw", padx=(0, 6))
        self.photo_list.grid_columnconfigure(0, weight=1)

        viewer = ctk.CTkFrame(area, fg_color=theme.CARD, corner_radius=10)
        viewer.grid(row=0, column=1, sticky="nsew")
        viewer.grid_columnconfigure(0, weight=1)
        viewer.grid_rowconfigure(1, weight=1)
        self.viewer = viewer
        tools = ctk.CTkFrame(viewer, fg_color="transparent")
        tools.grid(row=0, column=0, columnspan=2, sticky="ew", padx=12, pady=(10, 4))
        tools.grid_columnconfigure(4, weight=1)
        ctk.CTkLabel(tools, text="Confidence", font=theme.font(13)).grid(row=0, column=0, padx=(0, 8))
        self.slider = ctk.CTkSlider(tools, from_=FLOOR, to=1.0, number_of_steps=99, width=260,
                                    command=lambda _v: self._conf_changed())
        self.slider.set(DEFAULT_CONF)
        self.slider.grid(row=0, column=1)
        self.conf_label = ctk.CTkLabel(tools, text=f"≥ {DEFAULT_CONF:.2f}", width=56, font=theme.mono_font(12))
        self.conf_label.grid(row=0, column=2, padx=(6, 12))
        self.zoom = Choice(tools, ZOOMS, command=lambda _v: self.redraw())
        self.zoom.select("fit")
        self.zoom.grid(row=0, column=3)
        self.count_label = ctk.CTkLabel(tools, text="", text_color=theme.MUTED, font=theme.font(12), anchor="e")
        self.count_label.grid(row=0, column=4, sticky="e")

        self.canvas = tkinter.Canvas(viewer, highlightthickness=0, bd=0, bg=theme.pick(theme.SURFACE))
        self.canvas.grid(row=1, column=0, sticky="nsew", padx=(12, 0), pady=(0, 0))
        self.y_scroll = ctk.CTkScrollbar(viewer, command=self.canvas.yview)
        self.y_scroll.grid(row=1, column=1, sticky="ns", padx=(0, 4))
        self.x_scroll = ctk.CTkScrollbar(viewer, command=self.canvas.xview, orientation="horizontal")
        self.x_scroll.grid(row=2, column=0, sticky="ew", padx=(12, 0), pady=(0, 8))
        self.canvas.configure(xscrollcommand=self.x_scroll.set, yscrollcommand=self.y_scroll.set)
        self.canvas.bind("<Configure>", lambda _e: self._schedule_redraw() if self.zoom.value == "fit" else None)
        for sequence, step in (("<Button-4>", -1), ("<Button-5>", 1)):
            self.canvas.bind(sequence, lambda _e, s=step: self.canvas.yview_scroll(s * 3, "units"))
        self.canvas.bind("<Shift-Button-4>", lambda _e: self.canvas.xview_scroll(-3, "units"))
        self.canvas.bind("<Shift-Button-5>", lambda _e: self.canvas.xview_scroll(3, "units"))
        self.canvas.bind("<MouseWheel>", lambda e: self.canvas.yview_scroll(-1 if e.delta > 0 else 1, "units"))
        self.canvas.bind("<ButtonPress-1>", lambda e: self.canvas.scan_mark(e.x, e.y))  # drag to pan at 100 %
        self.canvas.bind("<B1-Motion>", lambda e: self.canvas.scan_dragto(e.x, e.y, gain=1))
        self.legend = ctk.CTkFrame(viewer, fg_color="transparent", height=24)
        self.legend.grid(row=3, column=0, columnspan=2, sticky="ew", padx=12, pady=(0, 8))
        self.after(10, self._draw_empty)

    def _register_drop_targets(self) -> None:
        if self.app.dnd_version is None:
            return
        from tkinterdnd2 import DND_FILES

        for widget in (self, self.area, self.viewer, self.canvas, self.photo_list):
            widget.drop_target_register(DND_FILES)
            widget.dnd_bind("<<Drop>>", self._on_drop)

    # ---- the model -----------------------------------------------------------------------------------
    def refresh_models(self) -> None:
        from cardgrader.gui.panels.models import line_text
        from cardgrader.models.library import ModelLibrary

        chosen = self.model_label()
        try:
            models = ModelLibrary().list()
        except UserError as exc:
            self.say(str(exc), "error")
            models = []
        self.models = {f"{m.label}  ·  {line_text(m)}{'  ·  active' if m.active else ''}": m.label for m in models}
        self.packages = {m.label: m.package for m in models}
        self.classes = {m.label: list(m.classes) for m in models}
        self.model_menu.configure(values=list(self.models) or [NO_MODEL])
        if chosen not in self.packages:
            active = [m.label for m in models if m.active]
            chosen = (active or [m.label for m in models] or [None])[0]
        self._show_model(chosen)

    def _show_model(self, label: str | None) -> None:
        text = next((t for t, l in self.models.items() if l == label), NO_MODEL)
        self.model_menu.set(text)
        self._buttons()

    def model_label(self) -> str | None:
        return self.models.get(self.model_menu.get())

    def choose_model(self, label: str) -> None:
        """Use the library model `label` (the Models panel's Predict… button); photos on show are run again."""
        self.refresh_models()
        if label in self.packages:
            self._show_model(label)
            self._model_changed()

    def _model_changed(self) -> None:
        self._buttons()
        if self.prediction is not None and self.prediction.model != self.model_label():
            self.run_again()

    # ---- photos in -----------------------------------------------------------------------------------
    def _on_drop(self, event) -> str:
        self.add_paths([p for p in self.tk.splitlist(event.data) if p])  # paths with spaces arrive in braces
        return event.action

    def browse(self) -> None:
        files = filedialog.askopenfilenames(parent=self, title="Choose card photos", filetypes=[
            ("Images", "*.jpg *.jpeg *.png *.bmp *.tif *.tiff *.webp"), ("All files", "*")])
        if files:
            self.add_paths(list(files))

    def add_paths(self, paths: list[str]) -> None:
        photos, skipped = photos_in(paths)
        note = f" Left out (not a photo): {', '.join(skipped[:5])}{' …' if len(skipped) > 5 else ''}." if skipped else ""
        if not photos:
            self.say("Nothing to predict on: drop card photos or folders of them." + note, "error")
            return
        self.predict(photos, note)

    def run_again(self) -> None:
        if self.prediction is not None:
            self.predict(self.prediction.photos)

    # ---- running the model ---------------------------------------------------------------------------
    def predict(self, photos: list[str], note: str = "") -> None:
        from cardgrader.gui.model_jobs import predict_photos
        from cardgrader.gui.offload import run_in_process

        label = self.model_label()
        if label is None:
            self.say("There is no model to predict with yet: train one, or import a .pt on the Models panel." + note,
                     "error")
            return
        self.cancel(quiet=True)
        conf = self.slider.get()
        prediction = PredictionSet(label, photos, conf=conf)
        self.prediction = prediction
        self._list_photos()
        self.current, self._base, self._fit_cache = None, None, None
        self._draw_empty("Loading the model…")
        package, results = self.packages[label], queue.Queue()

        def job(report, cancel):  # a worker thread: the model runs in a child process, results stream back
            done = []

            def arrived(photo: dict) -> None:
                results.put(photo)
                done.append(photo["image"])
                report(len(done) / len(photos), f"Predicted {Path(photo['image']).name} ({len(done)} of {len(photos)})")

            report(None, f"Loading {label}…")
            return run_in_process(predict_photos, package, photos, FLOOR, cancel=cancel, report=arrived)

        def current(callback):  # a replaced or cancelled run's late messages change nothing
            return lambda *args: callback(*args) if self.task is task else None

        def progress(fraction, text) -> None:
            self._take(prediction, results)
            show_progress(self.progress, fraction)
            self.status.configure(text=text, text_color=theme.MUTED)

        def finished(_value) -> None:
            self._take(prediction, results)
            self.task = None
            prediction.finished = True
            show_progress(self.progress, 1.0)
            self._buttons()
            self._summarise(note)

        def failed(exc: BaseException, _trace: str) -> None:
            self._take(prediction, results)
            self.task = None
            show_progress(self.progress, 0.0)
            self._buttons()
            if isinstance(exc, UserError):
                self._summarise(note, error=str(exc))
            else:
                self.app.report_error(exc)

        self.predictions_run += 1
        task = BackgroundTask(self, job, on_done=current(finished), on_error=current(failed),
                              on_progress=current(progress))
        self.task = task
        task.start()
        self._buttons()
        self.say(f"Running {label} on {len(photos)} photo{'s' if len(photos) != 1 else ''}…" + note)

    def cancel(self, quiet: bool = False) -> None:
        if self.task is None:
            return
        self.task.cancel()  # ends the child process at once
        self.task = None
        show_progress(self.progress, 0.0)
        self._buttons()
        if self.prediction is not None:
            self.prediction.stopped = True
            if not quiet:
                self._summarise(stopped=True)

    def _take(self, prediction: PredictionSet, results: queue.Queue) -> None:
        """Photos whose detections have arrived since the last look: listed, and the first one shown."""
        while True:
            try:
                photo = results.get_nowait()
            except queue.Empty:
                break
            result = prediction.add(photo)
            self._update_row(result)
            if self.current is None or (self.current == result.image):
                self.show_photo(result.image)

    def _summarise(self, note: str = "", error: str | None = None, stopped: bool = False) -> None:
        p = self.prediction
        text = p.summary()
        if stopped:
            text = f"Stopped after {p.done} of {len(p.photos)} photos; those are shown. " + text
        level = "error" if error else ("warning" if p.failed else "info")
        if error:
            text = f"{error} {text}"
        self.say(text + note, level)

    def say(self, text: str, level: str = "info") -> None:
        self.status.configure(text=text, text_color=theme.SEVERITY[level] if level != "info" else theme.MUTED)

    def _buttons(self) -> None:
        busy = self.task is not None
        have_model = self.model_label() is not None
        self.cancel_button.configure(state="normal" if busy else "disabled")
        self.again_button.configure(state="normal" if have_model and self.prediction is not None and not busy
                                    else "disabled")
        self.choose_button.configure(state="normal" if have_model else "disabled")

    # ---- the photo list ------------------------------------------------------------------------------
    def _list_photos(self) -> None:
        for row in self._rows.values():
            row.destroy()
        self._rows = {}
        for index, photo in enumerate(self.prediction.photos):
            row = ctk.CTkButton(self.photo_list, text=f"{Path(photo).name}   …", anchor="w", height=28,
                                fg_color="transparent", text_color=theme.MUTED, hover_color=("gray80", "gray25"),
                                font=theme.font(12), command=lambda p=photo: self.show_photo(p))
            row.grid(row=index, column=0, sticky="ew", pady=1)
            self._rows[photo] = row

    def _row_text(self, result: PhotoPrediction) -> str:
        if result.error:
            return f"✖ {result.name} — cannot be read"
        return f"{result.name}   {len(result.shown(self.prediction.conf))}"

    def _update_row(self, result: PhotoPrediction) -> None:
        row = self._rows.get(result.image)
        if row is None:
            return
        selected = result.image == self.current
        color = theme.SEVERITY["error"] if result.error else ("white", "white") if selected else ("gray10", "gray90")
        row.configure(text=self._row_text(result), text_color=color,
                      fg_color=theme.ACCENT if selected else "transparent")

    def row_text(self, photo: str) -> str:
        return self._rows[photo].cget("text")

    def show_photo(self, photo: str) -> None:
        previous, self.current = self.current, photo
        for image in {previous, photo} - {None}:
            result = self.prediction.get(image) if self.prediction else None
            if result is not None:
                self._update_row(result)
            elif image in self._rows:
                self._rows[image].configure(fg_color=theme.ACCENT if image == photo else "transparent")
        self.redraw()

    # ---- confidence and drawing ----------------------------------------------------------------------
    @property
    def conf(self) -> float:
        return round(float(self.slider.get()), 2)

    def _conf_changed(self) -> None:
        conf = self.conf
        self.conf_label.configure(text=f"≥ {conf:.2f}")
        if self.prediction is None:
            return
        self.prediction.conf = conf
        for result in self.prediction.results.values():
            self._update_row(result)
        if self.task is None and self.prediction.finished:
            self._summarise()
        self._schedule_redraw()

    def _schedule_redraw(self) -> None:
        if self._redraw_job is not None:
            self.after_cancel(self._redraw_job)
        self._redraw_job = self.after(REDRAW_MS, self.redraw)

    def redraw(self) -> None:
        """Draw the photo in the viewer with the detections at or above the slider's confidence."""
        self._redraw_job = None
        result = self.prediction.get(self.current) if self.prediction and self.current else None
        if result is None:
            self._draw_empty("Waiting for the model…" if self.current else None)
            return
        if result.error:
            self._draw_empty(f"{result.name} cannot be read:\n{result.error}", error=True)
            return
        try:
            base = self._photo_array(result.image)
        except UserError as exc:
            self._draw_empty(str(exc), error=True)
            return
        from cardgrader.models.overlay import draw_overlay

        shown = result.shown(self.prediction.conf)
        self.canvas.delete("all")
        if self.zoom.value == "fit":
            self._scrollbars(False)
            width, height = max(self.canvas.winfo_width(), 50), max(self.canvas.winfo_height(), 50)
            fitted, scale = self._fitted(result.image, base, width, height)
            picture = Image.fromarray(draw_overlay(fitted, [scaled(d, scale) for d in shown]))
            self._picture = ImageTk.PhotoImage(picture)
            self.canvas.create_image(width // 2, height // 2, image=self._picture, anchor="center")
            self.canvas.configure(scrollregion=(0, 0, width, height))
            self.canvas.xview_moveto(0)
            self.canvas.yview_moveto(0)
        else:
            self._scrollbars(True)
            self._picture = ImageTk.PhotoImage(Image.fromarray(draw_overlay(base, shown)))
            self.canvas.create_image(0, 0, image=self._picture, anchor="nw")
            self.canvas.configure(scrollregion=(0, 0, base.shape[1], base.shape[0]))
        self.draws += 1
        self.drawn = len(shown)
        self.count_label.configure(text=f"{len(shown)} of {len(result.detections)} detections · "
                                        f"{result.width}×{result.height} px")
        self._legend(shown)

    def _fitted(self, photo: str, base, width: int, height: int):
        """The photo resized to fit the view (kept while neither changes), and the scale it was resized by:
        drawing on it instead of the full photo keeps a slider move quick on a 12-megapixel photo."""
        import cv2

        scale = min(width / base.shape[1], height / base.shape[0])
        size = (max(1, round(base.shape[1] * scale)), max(1, round(base.shape[0] * scale)))
        if self._fit_cache is None or self._fit_cache[:2] != (photo, size):
            shrink = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
            self._fit_cache = (photo, size, cv2.resize(base, size, interpolation=shrink))
        return self._fit_cache[2], scale

    def _scrollbars(self, shown: bool) -> None:
        for bar in (self.x_scroll, self.y_scroll):
            bar.grid() if shown else bar.grid_remove()

    def _legend(self, shown: list | None) -> None:
        """One swatch per class in its overlay colour, with how many of it are drawn."""
        for child in self.legend.winfo_children():
            child.destroy()
        if shown is None:
            return
        counts: dict[str, int] = {}
        from cardgrader.models.overlay import class_colour

        for d in shown:
            counts[d.class_name] = counts.get(d.class_name, 0) + 1
        for index, name in enumerate(self.classes.get(self.prediction.model, [])):
            colour = "#%02x%02x%02x" % class_colour(index)  # the overlay's own colour for the class
            ctk.CTkLabel(self.legend, text="■", text_color=colour, font=theme.font(16)).grid(
                row=0, column=2 * index, padx=(0 if index == 0 else 14, 4))
            ctk.CTkLabel(self.legend, text=f"{name} {counts.get(name, 0)}", font=theme.font(12)).grid(
                row=0, column=2 * index + 1)

    def _photo_array(self, photo: str):
        """The photo as the model saw it (RGB, EXIF orientation applied), read once per photo shown."""
        if self._base is None or self._base[0] != photo:
            import numpy as np

            from cardgrader.models.predict import read_image  # the reader the model's process used

            self._base = (photo, np.ascontiguousarray(read_image(photo)[..., ::-1]))
        return self._base[1]

    def _draw_empty(self, text: str | None = None, error: bool = False) -> None:
        self.canvas.delete("all")
        self.drawn = 0
        width, height = max(self.canvas.winfo_width(), 200), max(self.canvas.winfo_height(), 200)
        self.canvas.configure(scrollregion=(0, 0, width, height))
        message = text or "Drop card photos here\n(or folders of them)"
        color = theme.pick(theme.SEVERITY["error"]) if error else theme.pick(theme.MUTED)
        self.canvas.create_text(width // 2, height // 2, text=message, fill=color, justify="center",
                                font=theme.font(16 if text is None else 13, "bold" if text is None else "normal"))
        self.count_label.configure(text="")
        self._legend(None)

    def apply_theme(self) -> None:
        self.canvas.configure(bg=theme.pick(theme.SURFACE))
        self.redraw()

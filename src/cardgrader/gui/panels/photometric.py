"""The Photometric panel: solve a multi-light capture of a card (normals, albedo, depth, defect map)
and check a trained model against it: a surface model against the defect map, a border model against the
card's outline, a corners or edges model against the damage at the card's perimeter. The capture folder is
only read; outputs go where the grader chooses (Save) or, for validation, into the model's run folder."""

from __future__ import annotations

from pathlib import Path
from tkinter import filedialog

import customtkinter as ctk
from PIL import Image

from cardgrader.errors import Cancelled
from cardgrader.gui import theme
from cardgrader.gui.tasks import BackgroundTask
from cardgrader.gui.widgets import Choice, Section, fit_wrap, shorten, show_progress

PREVIEW = 240
METHODS = {"robust": "Robust (shadows, highlights)", "l2": "Least squares"}
NO_RESULTS = "Solve a capture to see its albedo, normals, relief and defects."
# the command line's advice, in the window's words
CLI_ADVICE = (("give the light directions with --lights FILE.",
               "put a lights.json with the light directions beside the photos (README, Photometric stereo, shows "
               "its format), or choose the folder that has one."),)


def for_the_window(message: str) -> str:
    for cli, gui in CLI_ADVICE:
        message = message.replace(cli, gui)
    return message
NO_MODEL = "(no model to check yet)"


def sample_capture_folder() -> Path:
    from cardgrader import paths

    return paths.home() / "samples" / "ps-card"


def ensure_sample_capture() -> Path:
    """A rendered capture of a warped card with dents, scratches and a crease under eight lights."""
    from cardgrader.photometric import synthetic

    folder = sample_capture_folder()
    if not (folder / "lights.json").exists():
        card = synthetic.card(320, 240, dents=2, scratches=2, creases=1, seed=3)
        capture = synthetic.render(card.height, card.normals, card.mask, synthetic.ring_lights(8, 40.0),
                                   albedo=card.albedo, specular=0.15, noise=0.004, bits=16, seed=3)
        synthetic.write_capture(folder, capture, mask=True)
    return folder


def _picture(array) -> Image.Image:
    """An 8-bit or BGR uint8 array as a PIL image that fits the preview square."""
    import numpy as np

    data = np.asarray(array)
    if data.dtype != np.uint8:
        top = float(np.percentile(data, 99.5)) or 1.0
        data = np.clip(data / top * 255, 0, 255).astype(np.uint8)
    image = Image.fromarray(data[..., ::-1] if data.ndim == 3 else data)
    image.thumbnail((PREVIEW, PREVIEW))
    return image


class PhotometricPanel(ctk.CTkScrollableFrame):
    def __init__(self, master, app):
        super().__init__(master, fg_color="transparent")
        self.app = app
        self.folder: Path | None = None
        self.analysis = None
        self.task: BackgroundTask | None = None
        self._images: list = []
        self._models: dict[str, tuple[str, str]] = {}  # menu label -> (run id, kind)
        self.grid_columnconfigure(0, weight=1)
        ctk.CTkLabel(self, text="Photometric stereo", font=theme.font(22, "bold"), anchor="w").grid(
            row=0, column=0, sticky="ew", padx=6, pady=(4, 0))
        fit_wrap(ctk.CTkLabel(self, text="Photos of one card from a fixed camera, each lit from a different direction, "
                                         "plus lights.json (or a DiLiGenT folder). The surface shows dents, scratches and "
                                         "creases a single photo hides.", text_color=theme.MUTED, font=theme.font(12),
                              anchor="w", justify="left", wraplength=1000)).grid(row=1, column=0, sticky="ew", padx=6,
                                                                                pady=(0, 8))

        source = Section(self, "Capture")
        source.grid(row=2, column=0, sticky="ew", padx=6, pady=6)
        body = source.body
        body.grid_columnconfigure(1, weight=0)
        body.grid_columnconfigure(2, weight=1)
        self.folder_label = ctk.CTkLabel(body, text="No capture chosen.", anchor="w")
        self.folder_label.grid(row=0, column=0, columnspan=4, sticky="ew")
        ctk.CTkButton(body, text="Choose folder…", width=130, command=self.browse).grid(row=1, column=0, pady=8, sticky="w")
        ctk.CTkButton(body, text="Try a sample capture", width=160, command=self.use_sample,
                      **theme.GO).grid(row=1, column=1, padx=8)
        self.method = Choice(body, METHODS)
        self.method.select("robust")
        self.method.grid(row=1, column=2, padx=8, sticky="e")
        self.solve_button = ctk.CTkButton(body, text="Solve", width=100, command=self.solve, state="disabled")
        self.solve_button.grid(row=1, column=3, padx=8)
        self.progress = ctk.CTkProgressBar(body)
        show_progress(self.progress, 0.0)
        self.progress.grid(row=2, column=0, columnspan=3, sticky="ew")
        self.cancel_button = ctk.CTkButton(body, text="Cancel", width=80, command=self.cancel, state="disabled")
        self.cancel_button.grid(row=2, column=3, padx=8)
        self.progress_text = fit_wrap(ctk.CTkLabel(body, text="", text_color=theme.MUTED, anchor="w", justify="left"))
        self.progress_text.grid(row=3, column=0, columnspan=4, sticky="ew")

        results = Section(self, "Surface")
        results.grid(row=3, column=0, sticky="ew", padx=6, pady=6)
        self.pictures = ctk.CTkFrame(results.body, fg_color="transparent")
        self.pictures.grid(row=0, column=0, columnspan=2, sticky="w")
        self.summary = ctk.CTkLabel(results.body, text=NO_RESULTS,
                                    anchor="w", justify="left", wraplength=1000, font=theme.font(13))
        self.summary.grid(row=1, column=0, sticky="w", pady=(8, 4))
        self.save_button = ctk.CTkButton(results.body, text="Save outputs…", width=130, command=self.save, state="disabled")
        self.save_button.grid(row=1, column=1, sticky="e")

        check = Section(self, "Check a model", "Compare a trained model's detections with what photometric stereo sees "
                        "for its task: the defect map (surface), the card's outline (border), damage at the perimeter "
                        "(corners, edges).")
        check.grid(row=4, column=0, sticky="ew", padx=6, pady=6)
        check.body.grid_columnconfigure(1, weight=0)
        check.body.grid_columnconfigure(2, weight=1)
        self._model_choice = ctk.StringVar(value=NO_MODEL)  # written by the dropdown and by set(): the Runs panel's too
        self._model_choice.trace_add("write", lambda *_: self._model_chosen(self._model_choice.get()))
        self.model_menu = ctk.CTkOptionMenu(check.body, values=[NO_MODEL], width=320, variable=self._model_choice)
        self.model_menu.grid(row=0, column=0, sticky="w")
        self.validate_button = ctk.CTkButton(check.body, text="Validate", width=100, command=self.validate, state="disabled")
        self.validate_button.grid(row=0, column=1, padx=8, sticky="w")
        self.kind_label = fit_wrap(ctk.CTkLabel(check.body, text="", text_color=theme.MUTED, anchor="w", justify="left"))
        self.kind_label.grid(row=0, column=2, sticky="ew", padx=4)
        self.validation_text = ctk.CTkLabel(check.body, text="", anchor="w", justify="left", wraplength=1000)
        self.validation_text.grid(row=1, column=0, columnspan=3, sticky="w", pady=(8, 0))
        self.overlay = ctk.CTkLabel(check.body, text="")
        self.overlay.grid(row=2, column=0, columnspan=3, sticky="w", pady=(8, 0))

    # ---- choosing --------------------------------------------------------------------------------------
    def browse(self) -> None:
        folder = filedialog.askdirectory(parent=self, title="Choose a folder of lit photos and lights.json")
        if folder:
            self.set_folder(Path(folder))

    def use_sample(self) -> None:
        self._run(lambda report, cancel: ensure_sample_capture(), self.set_folder, "Rendering a sample capture…")

    def set_folder(self, folder: Path) -> None:
        """A new capture: the last one's results go, and the folder is checked at once (no pixel read)."""
        from cardgrader.errors import DataError
        from cardgrader.photometric.capture import capture_plan

        self.cancel()
        self._clear_results()
        self.folder = Path(folder)
        room = max(240, self.folder_label.winfo_width() - 8)  # a long path is shortened in the middle, not cut
        self.folder_label.configure(text=shorten(str(self.folder), ctk.CTkFont(), room))
        try:
            _lights, names = capture_plan(self.folder)
        except DataError as exc:
            self.folder = None
            self.solve_button.configure(state="disabled")
            self.progress_text.configure(text=for_the_window(str(exc)), text_color=theme.SEVERITY["error"])
        else:
            self.solve_button.configure(state="normal")
            self.progress_text.configure(text=f"{len(names)} lit photos and their lights: press Solve.",
                                         text_color=theme.MUTED)
        self.refresh_models()

    def _clear_results(self) -> None:
        for child in self.pictures.winfo_children():
            child.destroy()
        self._images = []
        self.analysis = None
        self.summary.configure(text=NO_RESULTS)
        self.save_button.configure(state="disabled")
        self.validation_text.configure(text="")
        self.overlay.configure(image=None)
        show_progress(self.progress, 0.0)

    def refresh_models(self) -> None:
        """Finished runs of a kind photometric stereo can check (surface, border, corners, edges)."""
        from cardgrader.errors import ConfigError
        from cardgrader.photometric.validate import kind_of

        store = self.app.bridge.store
        self._models = {}
        for r in store.list():
            if r.status != "finished":
                continue
            config = store.config(r.id)
            try:
                self._models[f"{r.name} ({r.id})"] = (r.id, kind_of(config.task, config.class_names, r.name))
            except ConfigError:
                continue
        names = list(self._models)
        chosen = self.model_menu.get()
        self.model_menu.configure(values=names or [NO_MODEL])
        self.model_menu.set(chosen if chosen in self._models else (names[0] if names else NO_MODEL))
        self.validate_button.configure(state="normal" if names and self.folder else "disabled")

    def choose_run(self, run_id: str) -> bool:
        """Offer the finished run `run_id` for a check (Runs panel's *Check with PS…*); False if it cannot be."""
        self.refresh_models()
        choice = next((name for name, (rid, _kind) in self._models.items() if rid == run_id), None)
        if choice is None:
            return False
        self.model_menu.set(choice)
        self._model_chosen(choice)
        return True

    def _model_chosen(self, choice: str) -> None:
        kind = self._models.get(choice, (None, None))[1]
        what = {"surface": "its detections are checked against the defect map",
                "border": "its outer border is checked against the card's outline",
                "corners": "its worn corners are checked against damage at the card's corners",
                "edges": "its edge wear is checked against damage along the card's edges"}
        self.kind_label.configure(text=f"{kind.capitalize()} model: {what[kind]}." if kind else "")

    # ---- work ------------------------------------------------------------------------------------------
    def _busy(self, busy: bool) -> None:
        self.cancel_button.configure(state="normal" if busy else "disabled")
        for button in (self.solve_button, self.validate_button):
            button.configure(state="disabled" if busy else "normal")
        if not busy:
            self.solve_button.configure(state="normal" if self.folder else "disabled")
            self.refresh_models()

    def _run(self, job, on_done, text: str) -> None:
        self.cancel()
        show_progress(self.progress, 0.0)
        self.progress_text.configure(text=text)
        self._busy(True)
        self._generation = getattr(self, "_generation", 0) + 1
        generation = self._generation

        def current(callback):  # a cancelled job's late result must not undo the one that replaced it
            return lambda *args: callback(*args) if generation == self._generation else None

        def finished(value) -> None:
            self.task = None
            self._busy(False)
            show_progress(self.progress, 1.0)
            self.progress_text.configure(text="Done.", text_color=theme.MUTED)
            on_done(value)  # may say more (set_folder says what the folder holds)

        def failed(exc: BaseException, _trace: str) -> None:
            self.task = None
            self._busy(False)
            show_progress(self.progress, 0.0)
            if isinstance(exc, Cancelled):
                self.progress_text.configure(text=str(exc), text_color=theme.MUTED)
            else:
                self.progress_text.configure(text=self.app.report_error(exc), text_color=theme.SEVERITY["error"])

        def progress(fraction, message) -> None:
            show_progress(self.progress, fraction)
            self.progress_text.configure(text=message, text_color=theme.MUTED)

        self.task = BackgroundTask(self, job, on_done=current(finished), on_error=current(failed),
                                   on_progress=current(progress)).start()

    @staticmethod
    def _reporter(report, cancel):
        def progress(fraction, message):
            if cancel.is_set():
                raise Cancelled("Stopped; nothing was written.")
            report(fraction, message)
        return progress

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None
            self._generation = getattr(self, "_generation", 0) + 1
            self._busy(False)
            show_progress(self.progress, 0.0)
            self.progress_text.configure(text="Stopped; nothing was written.", text_color=theme.MUTED)

    def solve(self) -> None:
        from cardgrader.photometric import analyse_capture, load_capture

        folder, method = self.folder, self.method.value

        def job(report, cancel):
            progress = self._reporter(report, cancel)
            progress(0.0, "Reading the capture…")
            capture = load_capture(folder)
            return capture, analyse_capture(capture, method, progress)

        self._run(job, self._show, f"Solving with {METHODS[method].lower()}…")

    def _show(self, value) -> None:
        from cardgrader.photometric.report import defects_image, normal_map_image

        capture, self.analysis = value
        analysis = self.analysis
        for child in self.pictures.winfo_children():
            child.destroy()
        self._images = []
        pictures = (("Albedo", analysis.result.albedo), ("Normals", normal_map_image(analysis.result.normals)),
                    ("Relief (raking light)", analysis.shaded), ("Defects", defects_image(analysis)))
        for column, (title, array) in enumerate(pictures):
            image = _picture(array)
            picture = ctk.CTkImage(light_image=image, dark_image=image, size=image.size)
            self._images.append(picture)
            ctk.CTkLabel(self.pictures, image=picture, text=title, compound="top", font=theme.font(12)).grid(
                row=0, column=column, padx=6)
        summary = analysis.defects.summary()
        kinds = ", ".join(f"{k} {v}" for k, v in summary["counts"].items() if v) or "none"
        self.summary.configure(text=(
            f"{len(capture.names)} lights · {METHODS.get(analysis.result.method, analysis.result.method)} · surface integrity {summary['integrity']:.0f}/100 · "
            f"{len(summary['regions'])} defect region{'' if len(summary['regions']) == 1 else 's'} ({kinds}) · "
            f"solved in {sum(analysis.seconds.values()):.1f} s"))
        self.save_button.configure(state="normal")

    def save(self) -> None:
        from cardgrader.photometric.report import write_outputs

        target = filedialog.askdirectory(parent=self, title="Folder for normals, albedo, depth and the report")
        if not target:
            return
        if self.folder and Path(target).resolve() == self.folder.resolve():
            self.app.show_message("Choose another folder: the capture folder is never written to.", "error")
            return
        report = write_outputs(self.analysis, target, {"capture": str(self.folder)})
        self.app.show_message(f"Saved {len(report['outputs'])} files to {target}.", "info")

    def validate(self) -> None:
        from cardgrader.gui.offload import run_in_process, validation_report

        choice = self.model_menu.get()
        if choice not in self._models or self.folder is None:
            return
        run_id = self._models[choice][0]
        folder, method = str(self.folder), self.method.value

        def job(report, cancel):  # the model runs in its own process: torch never loads into the window's
            report(None, "Solving the capture and running the model…")
            return run_in_process(validation_report, run_id, folder, method, cancel=cancel)

        self._run(job, self._show_validation, "Validating the model against photometric stereo…")

    def _show_validation(self, value) -> None:
        r, folder = value
        folder = Path(folder)
        self.validation_text.configure(text="\n".join([*r["summary"], f"Saved to {folder}"]))
        image = Image.open(folder / "overlay.png")
        image.thumbnail((520, 520))
        self._overlay = ctk.CTkImage(light_image=image, dark_image=image, size=image.size)
        self.overlay.configure(image=self._overlay)

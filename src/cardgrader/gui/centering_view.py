"""A card photo with its eight border lines, which the grader drags to correct them.

The photo is shown fitted to the view or at 100 % / 200 % (scrollable, and dragged about where no line
is); lines are canvas items drawn in photo pixels times the view's scale, so a drag is measured in the
photo's own pixels whatever the zoom. The view moves lines through `GradedCard` and tells its owner
after every step (`on_change`), which redraws the numbers."""

from __future__ import annotations

import tkinter
from pathlib import Path
from typing import Callable

import customtkinter as ctk
from PIL import Image, ImageTk

from cardgrader.gui import theme
from cardgrader.gui.widgets import Choice

LINE_COLOURS = {"outer": ("#0f8f80", "#2dd4bf"), "inner": ("#d9480f", "#fb923c")}  # (light, dark): teal, orange
PROBLEM_COLOUR = ("#c62828", "#ff6b6b")
GRAB_PX = 9  # how near (screen pixels) the mouse must be to a line to grab it
DECIDE_PX = 3  # near two lines at once: the first move this long picks the one it pushes across
PAST_CORNER = 0.04  # lines are drawn this share of the photo's short side past their corners
ZOOMS = {"fit": "Fit", "full": "100 %", "double": "200 %"}
ZOOM_SCALE = {"full": 1.0, "double": 2.0}


class CenteringView(ctk.CTkFrame):
    """`on_change(event, line, problem)` after each drag step (`drag`), at the release (`release`) and
    after Esc (`cancel`): `line` is the line's name, `problem` why its place makes no card (or None)."""

    def __init__(self, master, on_change: Callable[[str, str, str | None], None]):
        super().__init__(master, fg_color=theme.CARD, corner_radius=10)
        self.on_change = on_change
        self.card = None  # graded_card.GradedCard
        self.side = "front"
        self.array = None  # RGB array of the photo on show, as the models saw it
        self.message: tuple[str, bool] = ("", False)
        self.grab = None  # graded_card.Grab while a line is held
        self._pending = None  # (press on screen, press in the photo, candidates) until the first move decides
        self._panning = False
        self._cache: tuple | None = None  # ((photo, size), Tk image) of the photo at the shown scale
        self._view = (1.0, 0.0, 0.0)  # scale, x offset, y offset: photo pixels -> canvas pixels
        self.grid_columnconfigure(0, weight=1)
        self.grid_rowconfigure(1, weight=1)

        self.tools = ctk.CTkFrame(self, fg_color="transparent")  # the owner adds its own buttons here too
        self.tools.grid(row=0, column=0, columnspan=2, sticky="ew", padx=12, pady=(10, 4))
        self.tools.grid_columnconfigure(3, weight=1)
        self.zoom = Choice(self.tools, ZOOMS, command=lambda _v: self.redraw())
        self.zoom.select("fit")
        self.zoom.grid(row=0, column=1, padx=(10, 0))
        self.size_label = ctk.CTkLabel(self.tools, text="", text_color=theme.MUTED, font=theme.font(12), anchor="e")
        self.size_label.grid(row=0, column=3, sticky="e")

        self.canvas = tkinter.Canvas(self, highlightthickness=0, bd=0, bg=theme.pick(theme.SURFACE))
        self.canvas.grid(row=1, column=0, sticky="nsew", padx=(12, 0))
        self.y_scroll = ctk.CTkScrollbar(self, command=self.canvas.yview)
        self.y_scroll.grid(row=1, column=1, sticky="ns", padx=(0, 4))
        self.x_scroll = ctk.CTkScrollbar(self, command=self.canvas.xview, orientation="horizontal")
        self.x_scroll.grid(row=2, column=0, sticky="ew", padx=(12, 0))
        self.canvas.configure(xscrollcommand=self.x_scroll.set, yscrollcommand=self.y_scroll.set)
        self.canvas.bind("<Configure>", lambda _e: self.redraw() if self.zoom.value == "fit" else None)
        self.canvas.bind("<ButtonPress-1>", self._press)
        self.canvas.bind("<B1-Motion>", self._motion)
        self.canvas.bind("<ButtonRelease-1>", self._release)
        self.canvas.bind("<Motion>", self._hover)
        self.canvas.bind("<Escape>", self._escape)
        for sequence, step in (("<Button-4>", -1), ("<Button-5>", 1)):
            self.canvas.bind(sequence, lambda _e, s=step: self.canvas.yview_scroll(s * 3, "units"))
        self.canvas.bind("<MouseWheel>", lambda e: self.canvas.yview_scroll(-1 if e.delta > 0 else 1, "units"))

        legend = ctk.CTkFrame(self, fg_color="transparent")
        legend.grid(row=3, column=0, columnspan=2, sticky="ew", padx=12, pady=(4, 8))
        for column, (kind, text) in enumerate((("outer", "card edge (outer border)"),
                                               ("inner", "printed frame (inner border)"))):
            ctk.CTkLabel(legend, text="━━", text_color=LINE_COLOURS[kind], font=theme.font(14, "bold")).grid(
                row=0, column=2 * column, padx=(0 if column == 0 else 16, 6))
            ctk.CTkLabel(legend, text=text, font=theme.font(12)).grid(row=0, column=2 * column + 1)
        ctk.CTkLabel(legend, text="Drag a line to move it, near an end to tilt it; Esc undoes.",
                     text_color=theme.MUTED, font=theme.font(12)).grid(row=1, column=0, columnspan=4, sticky="w")

    # ---- what is shown ---------------------------------------------------------------------------------
    def show(self, card, side: str, array, message: str = "", error: bool = False) -> None:
        """The card's `side` (its photo as `array`), or `message` where there is no photo to show."""
        if array is not self.array:
            self._cache = None
        self.card, self.side, self.array, self.message = card, side, array, (message, error)
        self.grab, self._pending = None, None
        self.redraw()

    def _canvas_size(self) -> tuple[int, int]:
        return max(self.canvas.winfo_width(), 50), max(self.canvas.winfo_height(), 50)

    def to_canvas(self, x: float, y: float) -> tuple[float, float]:
        scale, ox, oy = self._view
        return x * scale + ox, y * scale + oy

    def to_photo(self, x: float, y: float) -> tuple[float, float]:
        """A point of the canvas window (event coordinates) in the photo's pixels."""
        scale, ox, oy = self._view
        return (self.canvas.canvasx(x) - ox) / scale, (self.canvas.canvasy(y) - oy) / scale

    @property
    def scale(self) -> float:
        return self._view[0]

    def redraw(self) -> None:
        """The photo, fitted or zoomed, with its eight lines."""
        self.canvas.delete("all")
        if self.card is None or self.array is None:
            self._scrollbars(False)
            self._view = (1.0, 0.0, 0.0)
            self._draw_message(*self.message)
            self.size_label.configure(text="")
            return
        height, width = self.array.shape[:2]
        cw, ch = self._canvas_size()
        if self.zoom.value == "fit":
            self._scrollbars(False)
            shown = self._scaled(min(cw / width, ch / height))
            ox, oy = (cw - shown.width()) / 2, (ch - shown.height()) / 2
            self.canvas.configure(scrollregion=(0, 0, cw, ch))
            self.canvas.xview_moveto(0)
            self.canvas.yview_moveto(0)
        else:
            self._scrollbars(True)
            shown = self._scaled(ZOOM_SCALE[self.zoom.value])
            ox, oy = 0.0, 0.0
            self.canvas.configure(scrollregion=(0, 0, shown.width(), shown.height()))
        self._view = (shown.width() / width, ox, oy)
        self.canvas.create_image(ox, oy, image=shown, anchor="nw", tags=("photo",))
        self.size_label.configure(text=f"{Path(self.card.photo(self.side)).name} · {width}×{height} px · "
                                       f"{100 * self.scale:.0f} %")
        self.draw_lines()

    def _scaled(self, scale: float):
        """The photo at `scale` as a Tk image, kept while neither changes."""
        import cv2

        array = self.array
        size = (max(1, round(array.shape[1] * scale)), max(1, round(array.shape[0] * scale)))
        if self._cache is None or self._cache[0] != size:
            resized = array if size == (array.shape[1], array.shape[0]) else cv2.resize(
                array, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
            self._cache = (size, ImageTk.PhotoImage(Image.fromarray(resized)))
        return self._cache[1]

    def draw_lines(self, held_line=None) -> None:
        """The eight lines over the photo (the held one thicker; red and dashed where it makes no card)."""
        import numpy as np

        self.canvas.delete("line")
        lines = self.card.lines(self.side) if self.card else None
        if not lines or self.array is None:
            return
        held = self.grab.name if self.grab is not None else None
        if held is not None and held_line is not None:
            lines = {**lines, held: np.asarray(held_line)}
        past = PAST_CORNER * min(self.array.shape[:2])
        for name, (a, b) in lines.items():
            direction = (b - a) / max(1e-9, float(np.linalg.norm(b - a)))
            a, b = a - direction * past, b + direction * past
            wrong = name == held and self.card.problem is not None
            colour = PROBLEM_COLOUR if wrong else LINE_COLOURS["outer" if name.startswith("outer") else "inner"]
            self.canvas.create_line(*self.to_canvas(*a), *self.to_canvas(*b), fill=theme.pick(colour),
                                    width=3 if name == held else 2, dash=(6, 3) if wrong else (),
                                    tags=("line", name))

    def line_on_screen(self, name: str) -> tuple[float, float, float, float]:
        """Where a line's item is drawn, in canvas-window coordinates (what a mouse event carries)."""
        x0, y0, x1, y1 = self.canvas.coords(name)
        dx, dy = self.canvas.canvasx(0), self.canvas.canvasy(0)
        return x0 - dx, y0 - dy, x1 - dx, y1 - dy

    def _draw_message(self, text: str, error: bool = False) -> None:
        width, height = self._canvas_size()
        self.canvas.configure(scrollregion=(0, 0, width, height))
        color = theme.pick(theme.SEVERITY["error"]) if error else theme.pick(theme.MUTED)
        self.canvas.create_text(width // 2, height // 2, text=text, fill=color, justify="center", width=width - 40,
                                font=theme.font(13 if error else 16, "normal" if error else "bold"),
                                tags=("message",))

    def _scrollbars(self, shown: bool) -> None:
        for bar in (self.x_scroll, self.y_scroll):
            bar.grid() if shown else bar.grid_remove()

    # ---- dragging a line -------------------------------------------------------------------------------
    def _near(self, event) -> list[tuple[float, str, str]]:
        if self.card is None or self.array is None or self.card.lines(self.side) is None:
            return []
        return self.card.candidates(self.side, self.to_photo(event.x, event.y), GRAB_PX / self.scale)

    def _hover(self, event) -> None:
        if self.grab is not None:
            return
        near = self._near(event)
        if not near:
            self.canvas.configure(cursor="")
            return
        _d, name, part = near[0]
        vertical = name.endswith(("left", "right"))
        self.canvas.configure(cursor="exchange" if part != "line" else
                              "sb_h_double_arrow" if vertical else "sb_v_double_arrow")

    def _press(self, event) -> None:
        self.canvas.focus_set()  # so that Esc reaches the canvas
        near = self._near(event)
        self.grab, self._pending, self._panning = None, None, False
        if not near:
            if self.zoom.value != "fit":
                self.canvas.scan_mark(event.x, event.y)  # drag the photo about when zoomed in
                self._panning = True
            return
        point = self.to_photo(event.x, event.y)
        close = [c for c in near if c[0] <= near[0][0] + 2 / self.scale]
        if len(close) == 1:
            self._take(close[0], point)
        else:  # a corner, or two lines close together: the first move says which line it pushes
            self._pending = ((event.x, event.y), point, close)

    def _take(self, candidate, point) -> None:
        _distance, name, part = candidate
        self.grab = self.card.grab(self.side, name, part, point)
        self.draw_lines()

    def _decide(self, event) -> bool:
        import numpy as np

        (x0, y0), point, close = self._pending
        move = np.array([event.x - x0, event.y - y0], dtype=float)
        if float(np.linalg.norm(move)) < DECIDE_PX:
            return False
        lines = self.card.lines(self.side)

        def push(candidate) -> float:  # how squarely the move pushes this line across itself
            a, b = lines[candidate[1]]
            direction = (b - a) / max(1e-9, float(np.linalg.norm(b - a)))
            return abs(float(move @ np.array([-direction[1], direction[0]])))

        self._pending = None
        self._take(max(close, key=push), point)
        return True

    def _motion(self, event) -> None:
        if self._panning:
            self.canvas.scan_dragto(event.x, event.y, gain=1)
            return
        if self._pending is not None and not self._decide(event):
            return
        if self.grab is None:
            return
        line = self.card.drag(self.grab, self.to_photo(event.x, event.y))
        self.draw_lines(held_line=line)
        self.on_change("drag", self.grab.name, self.card.problem)

    def _release(self, _event) -> None:
        self._panning, self._pending = False, None
        if self.grab is None:
            return
        grab, self.grab = self.grab, None
        problem = self.card.release(grab)
        self.draw_lines()
        self.on_change("release", grab.name, problem)

    def _escape(self, _event=None) -> None:
        if self.grab is None:
            return
        grab, self.grab = self.grab, None
        self.card.cancel(grab)
        self.draw_lines()
        self.on_change("cancel", grab.name, None)

    def apply_theme(self) -> None:
        self.canvas.configure(bg=theme.pick(theme.SURFACE))
        self.redraw()

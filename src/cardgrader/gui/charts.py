"""Live training charts: matplotlib `Figure` + `FigureCanvasTkAgg`, Agg backend, no pyplot.

Each chart updates at most once per `MIN_REDRAW_S`, only when its data changed, and by blitting its
lines; the two charts are separate figures so a rare full redraw never holds the main thread for both.
"""

from __future__ import annotations

import time

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: Ultralytics switches backends in its own code

import customtkinter as ctk  # noqa: E402
from matplotlib.backends.backend_tkagg import FigureCanvasTkAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from cardgrader.gui import theme  # noqa: E402

MIN_REDRAW_S = 1.0
LOSS_COLORS = {"box_loss": "#3b82f6", "cls_loss": "#f97316", "dfl_loss": "#22c55e", "seg_loss": "#a855f7",
               "angle_loss": "#eab308", "sem_loss": "#94a3b8"}
METRIC_STYLE = {"precision": ("#3b82f6", "Precision"), "recall": ("#f97316", "Recall"),
                "mAP50": ("#22c55e", "mAP50"), "mAP50_95": ("#a855f7", "mAP50-95")}


LEGEND_HEIGHT = 38  # the title and two rows of legend: a new entry never resizes the plot
LEGEND_ENTRY_PX = 96  # the width one legend entry is given when they flow into rows

class LiveChart(ctk.CTkFrame):
    """One axes of named series (x, y lists) that redraws itself, throttled.

    Lines are drawn by blitting onto a cached background (axes, ticks, legend): a few milliseconds on
    the main thread. The full redraw (~25–150 ms) happens only when the data leaves the axes' limits,
    the legend gains a series, or the theme or size changes.
    """

    def __init__(self, master, title: str, width: float = 4.6, height: float = 2.5,
                 fixed_y: tuple[float, float] | None = None):
        super().__init__(master, fg_color="transparent")
        # Title and legend are Tk labels, not matplotlib text: text is most of a full redraw's cost.
        top = ctk.CTkFrame(self, fg_color="transparent", height=LEGEND_HEIGHT)
        top.pack(fill="x")
        top.pack_propagate(False)  # new legend entries must never resize the plot (a full redraw)
        self.title = title
        ctk.CTkLabel(top, text=title, font=theme.font(13, "bold")).pack(side="left", anchor="n", padx=(4, 10))
        self.legend_frame = ctk.CTkFrame(top, fg_color="transparent")
        self.legend_frame.pack(side="left", fill="both", expand=True)
        self._legend_entries: list[ctk.CTkFrame] = []
        self._legend_columns = 0
        self.legend_frame.bind("<Configure>", lambda _e: self._flow_legend(), add="+")
        self.figure = Figure(figsize=(width, height), dpi=100)
        self.figure.subplots_adjust(left=0.09, right=0.985, top=0.97, bottom=0.1)
        self.axes = self.figure.add_subplot(1, 1, 1)
        self.canvas = FigureCanvasTkAgg(self.figure, master=self)
        self.canvas.get_tk_widget().pack(fill="both", expand=True)
        self.canvas.mpl_connect("draw_event", self._on_full_draw)
        self.series: dict[str, tuple[list[float], list[float], dict]] = {}
        self._lines: dict[str, object] = {}
        self.fixed_y = fixed_y
        self.xlim: tuple[float, float] = (0.0, 1.0)
        self.ylim: tuple[float, float] = fixed_y or (0.0, 1.0)
        self._background = None
        self._needs_full = True
        self._dirty = False
        self._scheduled = False
        self._last_draw = 0.0
        self.full_draws = 0
        self.apply_theme()

    # ---- data -------------------------------------------------------------------------------------
    def add_point(self, name: str, x: float, y: float | None, **style) -> None:
        if y is None:  # a NaN the trainer produced: a gap, not a point
            return
        xs, ys, _ = self.series.setdefault(name, ([], [], style))
        while xs and xs[-1] >= x:  # a resumed run redoes a partly trained epoch: keep the curve monotonic
            xs.pop()
            ys.pop()
        xs.append(float(x))
        ys.append(float(y))
        self._dirty = True

    def set_x_range(self, low: float, high: float) -> None:
        """The x extent the run will fill (e.g. its planned epochs), so the axes need not grow as it trains."""
        self.xlim = (float(low), float(max(high, low + 1)))
        self._needs_full = True

    def clear(self) -> None:
        """Forget the curves; the axes stay until new data redraws them (no full redraw just to empty)."""
        self.series.clear()
        for line in self._lines.values():
            line.remove()
        self._lines.clear()
        for entry in self.legend_frame.winfo_children():
            entry.destroy()
        self._legend_entries, self._legend_columns = [], 0
        self.ylim = self.fixed_y or (0.0, 1.0)
        self._needs_full = True
        if self._background is not None:
            self.canvas.restore_region(self._background)
            self.canvas.blit(self.axes.bbox)

    @property
    def point_count(self) -> int:
        return sum(len(xs) for xs, _, _ in self.series.values())

    # ---- drawing ------------------------------------------------------------------------------------
    def request_redraw(self) -> None:
        if self._scheduled or not self._dirty:
            return
        self._scheduled = True
        wait = max(0.0, MIN_REDRAW_S - (time.monotonic() - self._last_draw))
        self.after(int(wait * 1000), self._redraw)

    def _redraw(self) -> None:
        self._scheduled = False
        if not self.winfo_exists():
            return
        for name, (xs, ys, style) in self.series.items():
            line = self._lines.get(name)
            if line is None:
                (line,) = self.axes.plot(xs, ys, label=style.get("label", name), color=style.get("color"),
                                         linestyle=style.get("linestyle", "-"), linewidth=1.5,
                                         marker=style.get("marker"), markersize=3.5, animated=True)
                self._lines[name] = line
                self._add_legend_entry(style)
            else:
                line.set_data(xs, ys)
        self._fit_limits()
        self._dirty = False
        self._last_draw = time.monotonic()
        if self._needs_full or self._background is None:
            self._needs_full = False
            self.axes.set_xlim(*self.xlim)
            self.axes.set_ylim(*self.ylim)
            self.full_draws += 1
            self.canvas.draw_idle()  # the draw event then blits the lines
        else:
            self._blit_lines()

    def _fit_limits(self) -> None:
        """Grow the limits (with room to spare) only when a point falls outside them."""
        xs = [x for s in self.series.values() for x in s[0]]
        ys = [y for s in self.series.values() for y in s[1]]
        if not xs:
            return
        low_x, high_x = self.xlim
        if max(xs) > high_x:
            self.xlim = (low_x, max(xs) * 1.25)
            self._needs_full = True
        if self.fixed_y:
            return
        low, high = self.ylim
        if (low, high) == (0.0, 1.0) or min(ys) < low or max(ys) > high:
            # Losses fall as training goes on: from zero to well above the highest value so far, the
            # axes rarely need to change (each change is a full redraw).
            self.ylim = (min(0.0, min(ys) * 1.3), max(max(ys) * 1.3, 1e-6))
            self._needs_full = True

    def _on_full_draw(self, _event) -> None:
        self._background = self.canvas.copy_from_bbox(self.axes.bbox)
        self._blit_lines(restore=False)

    def _blit_lines(self, restore: bool = True) -> None:
        if restore:
            self.canvas.restore_region(self._background)
        for line in self._lines.values():
            self.axes.draw_artist(line)
        self.canvas.blit(self.axes.bbox)

    def _add_legend_entry(self, style: dict) -> None:
        """The series' colour as a key, its name in the text colour (a curve colour as text is too faint to
        read on the chart's background); entries flow onto a second row when the chart is narrow."""
        mark = "┅" if style.get("linestyle") == "--" else "━"
        entry = ctk.CTkFrame(self.legend_frame, fg_color="transparent")
        ctk.CTkLabel(entry, text=mark, text_color=style.get("color") or self._fg, font=theme.font(11),
                     height=16).pack(side="left", padx=(0, 3))
        ctk.CTkLabel(entry, text=style.get("label", ""), font=theme.font(11), height=16).pack(side="left")
        self._legend_entries.append(entry)
        self._legend_columns = 0
        self._flow_legend()

    def _flow_legend(self) -> None:
        width = self.legend_frame.winfo_width()
        columns = max(1, width // LEGEND_ENTRY_PX) if width > 1 else 4
        if not self._legend_entries or columns == self._legend_columns:
            return
        self._legend_columns = columns
        for index, entry in enumerate(self._legend_entries):
            entry.grid(row=index // columns, column=index % columns, sticky="w", padx=(0, 8))

    def apply_theme(self) -> None:
        dark = theme.is_dark()
        bg = "#242424" if dark else "#f3f3f3"
        self._fg = "#dce4ee" if dark else "#1a1a1a"
        grid = "#3a3a3a" if dark else "#d0d0d0"
        self.figure.set_facecolor(bg)
        ax = self.axes
        ax.set_facecolor(bg)
        ax.tick_params(labelsize=7, colors=self._fg)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
        for spine in ax.spines.values():
            spine.set_color(grid)
        ax.grid(True, color=grid, linewidth=0.6)
        self._needs_full = True
        self._dirty = True
        self._last_draw = 0.0
        self.request_redraw()
        if not self.series:  # nothing to wait for: show the empty axes in the new colours now
            self._redraw()


class TrainingCharts(ctk.CTkFrame):
    """The loss chart (running train losses per batch, val losses per epoch) and the metrics chart."""

    def __init__(self, master):
        super().__init__(master, fg_color="transparent")
        self.grid_columnconfigure((0, 1), weight=1, uniform="charts")
        self.grid_rowconfigure(0, weight=1)
        self.loss = LiveChart(self, "Loss by epoch")
        self.metrics = LiveChart(self, "Validation metrics by epoch", fixed_y=(0.0, 1.02))
        self.loss.grid(row=0, column=0, sticky="nsew", padx=(0, 6))
        self.metrics.grid(row=0, column=1, sticky="nsew", padx=(6, 0))

    def reset(self, epochs: int | None = None) -> None:
        self.loss.clear()
        self.metrics.clear()
        if epochs:
            self.set_epochs(epochs)
        self.redraw()

    def set_epochs(self, epochs: int) -> None:
        self.loss.set_x_range(0, epochs + 0.05 * epochs)
        self.metrics.set_x_range(0.5, epochs + 0.5)

    def add_event(self, event: dict) -> None:
        kind = event["type"]
        if kind == "run_started":
            self.set_epochs(int(event["epochs"]))
        elif kind == "batch":
            x = event["epoch"] - 1 + event["batch"] / max(event["batches"], 1)
            for name, value in event.get("losses", {}).items():
                self.loss.add_point(f"train/{name}", x, value, label=f"train {name.replace('_loss', '')}",
                                    color=LOSS_COLORS.get(name))
        elif kind == "epoch":
            for name, value in event.get("val_losses", {}).items():
                if name == "sem_loss" and not value:
                    continue
                self.loss.add_point(f"val/{name}", event["epoch"], value, label=f"val {name.replace('_loss', '')}",
                                    color=LOSS_COLORS.get(name), linestyle="--", marker="o")
            for name, value in event.get("metrics", {}).items():
                if name in METRIC_STYLE:
                    color, label = METRIC_STYLE[name]
                    self.metrics.add_point(name, event["epoch"], value, label=label, color=color, marker="o")

    def load_history(self, history: list[dict]) -> None:
        """Redraw a run from its events (a resumed or restarted app continues the same chart)."""
        from cardgrader.training import events as ev

        self.loss.clear()
        self.metrics.clear()
        epochs = {e["epoch"]: e for e in ev.epoch_history(history)}
        for event in history:
            if event["type"] in ("batch", "run_started"):
                self.add_event(event)
        for epoch in sorted(epochs):
            self.add_event(epochs[epoch])
        self.redraw()

    def redraw(self) -> None:
        self.loss.request_redraw()
        self.metrics.after(150, self.metrics.request_redraw)  # staggered: never both in one main-thread slot

    def apply_theme(self) -> None:
        self.loss.apply_theme()
        self.metrics.apply_theme()

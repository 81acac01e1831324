"""Small building blocks the panels share: titled sections, labelled fields with inline errors,
segmented choices that map display labels to config values."""

from __future__ import annotations

from typing import Callable

import customtkinter as ctk

from cardgrader.gui import theme


def fit_wrap(label: ctk.CTkLabel, margin: int = 4) -> ctk.CTkLabel:
    """Wrap `label`'s text at the width the layout gives it (a fixed wraplength cuts the text off in a
    narrow window and wastes a wide one)."""
    import tkinter

    last = [0]

    def resize(event) -> None:
        width = max(60, int(event.width) - margin)
        if abs(width - last[0]) > 2:
            last[0] = width
            label.configure(wraplength=width / label._get_widget_scaling())  # CTk scales it back up
    tkinter.Misc.bind(label, "<Configure>", resize, "+")  # the label's own frame, not CTk's inner widgets
    return label


class Section(ctk.CTkFrame):
    """A rounded card with a bold title; put content in `.body`."""

    def __init__(self, master, title: str, subtitle: str = "", **kwargs):
        super().__init__(master, fg_color=theme.CARD, corner_radius=10, **kwargs)
        self.grid_columnconfigure(0, weight=1)
        ctk.CTkLabel(self, text=title, font=theme.font(15, "bold"), anchor="w").grid(
            row=0, column=0, sticky="ew", padx=14, pady=(10, 0))
        if subtitle:
            fit_wrap(ctk.CTkLabel(self, text=subtitle, text_color=theme.MUTED, anchor="w", justify="left",
                                  font=theme.font(12))).grid(row=1, column=0, sticky="ew", padx=14)
        self.body = ctk.CTkFrame(self, fg_color="transparent")
        self.body.grid(row=2, column=0, sticky="nsew", padx=14, pady=(6, 12))
        self.body.grid_columnconfigure(1, weight=1)
        self.grid_rowconfigure(2, weight=1)


class Field:
    """A label, an input widget and a red line under it for the reason a value is refused."""

    def __init__(self, parent, row: int, label: str, widget_factory: Callable[[ctk.CTkFrame], ctk.CTkBaseClass],
                 hint: str = ""):
        self.label = ctk.CTkLabel(parent, text=label, anchor="w", font=theme.font(13))
        self.label.grid(row=2 * row, column=0, sticky="nw", padx=(0, 12), pady=(6, 0))
        holder = ctk.CTkFrame(parent, fg_color="transparent")
        holder.grid(row=2 * row, column=1, sticky="ew", pady=(6, 0))
        holder.grid_columnconfigure(0, weight=1)
        self.widget = widget_factory(holder)
        self.widget.grid(row=0, column=0, sticky="w")
        self.hint = hint
        self.message = fit_wrap(ctk.CTkLabel(parent, text=hint, anchor="w", justify="left", wraplength=420,
                                             text_color=theme.MUTED, font=theme.font(11)))
        self.message.grid(row=2 * row + 1, column=1, sticky="ew")
        if not hint:
            self.message.grid_remove()
        self.error: str | None = None

    def set_error(self, message: str | None) -> None:
        self.error = message
        if message:
            self.message.configure(text=message, text_color=theme.SEVERITY["error"])
            self.message.grid()
        elif self.hint:
            self.message.configure(text=self.hint, text_color=theme.MUTED)
            self.message.grid()
        else:
            self.message.grid_remove()


class Choice(ctk.CTkSegmentedButton):
    """A segmented button whose buttons show labels but whose value is a config value."""

    def __init__(self, master, options: dict[str, str], command: Callable[[str], None] | None = None, **kwargs):
        self.options = dict(options)
        self._by_label = {label: value for value, label in self.options.items()}
        self._on_change = command
        super().__init__(master, values=list(self.options.values()), command=self._clicked, **kwargs)

    def _clicked(self, label: str) -> None:
        if self._on_change:
            self._on_change(self._by_label[label])

    @property
    def value(self) -> str:
        return self._by_label.get(self.get(), "")

    def select(self, value: str) -> None:
        self.set(self.options.get(value, value))


def entry(master, width: int = 120, **kwargs) -> ctk.CTkEntry:
    return ctk.CTkEntry(master, width=width, **kwargs)


def show_progress(bar: ctk.CTkProgressBar, fraction: float | None) -> None:
    """A fraction fills the bar; None (no fraction known) makes it run back and forth."""
    if not hasattr(bar, "filled_colour"):
        bar.filled_colour = bar.cget("progress_color")
    # at 0 % CTkProgressBar still draws its rounded end as a dot of the fill colour: nothing is shown instead
    empty = fraction is not None and fraction < 0.005
    bar.configure(progress_color=bar.cget("fg_color") if empty else bar.filled_colour)
    if fraction is None:
        bar.configure(mode="indeterminate")
        bar.start()
    else:
        bar.stop()
        bar.configure(mode="determinate")
        bar.set(fraction)


def panel_header(master, title: str, subtitle: str, pady: tuple[int, int] = (4, 6)) -> ctk.CTkFrame:
    """A panel's title and its one-line muted explanation, in row 0 of `master`; returns the header frame."""
    header = ctk.CTkFrame(master, fg_color="transparent")
    header.grid(row=0, column=0, sticky="ew", padx=6, pady=pady)
    header.grid_columnconfigure(0, weight=1)
    ctk.CTkLabel(header, text=title, font=theme.font(22, "bold")).grid(row=0, column=0, sticky="w")
    fit_wrap(ctk.CTkLabel(header, text=subtitle, text_color=theme.MUTED, font=theme.font(12), anchor="w",
                          justify="left")).grid(row=1, column=0, sticky="ew")
    return header


def button_row(master, row: int, specs, width: int = 104, widths: dict[str, int] | None = None,
               danger: tuple[str, ...] = ()) -> dict[str, ctk.CTkButton]:
    """A panel's row of buttons at grid `row` of `master`: specs are (name, text, command); returns them by
    name. Buttons named in `danger` are red."""
    frame = ctk.CTkFrame(master, fg_color="transparent")
    frame.grid(row=row, column=0, sticky="ew", padx=6)
    buttons = {}
    for col, (name, text, command) in enumerate(specs):
        button = ctk.CTkButton(frame, text=text, width=(widths or {}).get(name, width), command=command,
                               **(theme.DANGER if name in danger else {}))
        button.grid(row=0, column=col, padx=(0, 8), pady=4)
        buttons[name] = button
    return buttons


def table(master, row: int, columns, selectmode: str = "browse", stretch: tuple[str, ...] = ("name",),
          centred: tuple[str, ...] = (), scrollbar: bool = True, keep_widths: bool = False):
    """A panel's table on a card at grid `row` of `master`: columns are (key, title, width); returns the
    ttk.Treeview and its card frame. `keep_widths`: no column shrinks below its width."""
    from tkinter import ttk

    frame = ctk.CTkFrame(master, fg_color=theme.CARD, corner_radius=10)
    frame.grid(row=row, column=0, sticky="nsew", padx=6, pady=6)
    frame.grid_columnconfigure(0, weight=1)
    frame.grid_rowconfigure(0, weight=1)
    theme.style_treeview(master)
    tree = ttk.Treeview(frame, columns=[key for key, _t, _w in columns], show="headings", style="Runs.Treeview",
                        selectmode=selectmode)
    for key, title, width in columns:
        anchor = "center" if key in centred else "w"
        tree.heading(key, text=title, anchor=anchor)
        tree.column(key, width=width, minwidth=width if keep_widths else 20, anchor=anchor, stretch=key in stretch)
    tree.grid(row=0, column=0, sticky="nsew", padx=8, pady=8)
    if scrollbar:
        scroll = ctk.CTkScrollbar(frame, command=tree.yview)
        scroll.grid(row=0, column=1, sticky="ns", pady=8)
        tree.configure(yscrollcommand=scroll.set)
    return tree, frame


def shorten(text: str, font, room: int) -> str:
    """`text` as it fits `room` pixels in `font`: shortened in the middle (…) rather than cut off."""
    if font.measure(text) <= room:
        return text
    keep = len(text)
    while keep > 4 and font.measure(f"{text[:keep // 2]}…{text[len(text) - keep // 2:]}") > room:
        keep -= 1
    return f"{text[:keep // 2]}…{text[len(text) - keep // 2:]}"


def fit_name(label: ctk.CTkLabel, path) -> str:
    """A file's name as it fits `label`'s fixed width."""
    from pathlib import Path

    font = label.cget("font")
    return shorten(Path(path).name, font if isinstance(font, ctk.CTkFont) else ctk.CTkFont(), int(label.cget("width")) - 4)

"""What a new user sees, measured on the real widgets: text that is cut off, and text whose contrast with
what is behind it is below WCAG AA (4.5:1).

`audit(window)` walks the shown panel's widgets (and the sidebar and status line). A label, button, menu,
switch or entry is *cut* when Tk gave it less width than its text needs (`winfo_width` < the text's
measured width plus the widget's own padding); wrapped text (a wraplength) is judged by its lines. The
contrast of a text is between its colour and the colour of what is drawn behind it: the widget's own
fill, or the nearest container's. Disabled controls are left out (WCAG exempts inactive components), and so is a
colour key (a line or dot glyph alone) beside the words it marks;
buttons are judged in their normal and their hover colours.

`scripts/screenshots.py` runs it over every panel, size and theme and saves a screenshot of each.
"""

from __future__ import annotations

from dataclasses import dataclass

import customtkinter as ctk

AA = 4.5


@dataclass
class Finding:
    panel: str
    kind: str  # "cut" or "contrast"
    widget: str  # the widget's class and text
    detail: str
    ratio: float | None = None


def luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG relative luminance of an sRGB colour (0-1 channels)."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _rgb(widget, colour: str) -> tuple[float, float, float]:
    r, g, b = widget.winfo_rgb(colour)
    return r / 65535, g / 65535, b / 65535


def _mode_colour(widget, colour) -> str | None:
    if colour is None:
        return None
    if isinstance(colour, (tuple, list)):
        colour = colour[1] if ctk.get_appearance_mode() == "Dark" else colour[0]
    return None if colour == "transparent" else colour


def background(widget) -> str:
    """The colour drawn behind `widget`: its own fill if it has one, else its nearest container's."""
    node = widget
    while node is not None:
        fill = _mode_colour(node, getattr(node, "_fg_color", None))
        if fill:
            return fill
        if isinstance(node, ctk.CTk | ctk.CTkToplevel):
            return _mode_colour(node, ctk.ThemeManager.theme["CTk"]["fg_color"]) or "white"
        node = node.master
    return "white"


def _behind(widget) -> str:
    """What is behind a widget's own fill (the container it sits on)."""
    return background(widget.master) if widget.master is not None else "white"


def _text(widget) -> str:
    try:
        return str(widget.cget("text") or "")
    except Exception:  # noqa: BLE001 - a widget without text
        return ""


def _font(widget):
    font = getattr(widget, "_font", None)
    if isinstance(font, ctk.CTkFont):
        return font
    try:
        return ctk.CTkFont(font=font) if font else ctk.CTkFont()
    except Exception:  # noqa: BLE001
        return ctk.CTkFont()


def _needed_width(widget, text: str) -> int:
    font = _font(widget)
    wrap = getattr(widget, "_wraplength", 0) or 0
    widest = max((font.measure(line) for line in text.splitlines() or [""]), default=0)
    return min(widest, int(wrap)) if wrap else widest


def _state(widget) -> str:
    try:
        return str(widget.cget("state"))
    except Exception:  # noqa: BLE001
        return "normal"


def _visible(widget) -> bool:
    try:
        return bool(widget.winfo_ismapped()) and widget.winfo_viewable()
    except Exception:  # noqa: BLE001
        return False


def _label(widget, text: str) -> str:
    short = text.replace("\n", " ")
    return f"{type(widget).__name__} '{short[:50]}{'…' if len(short) > 50 else ''}'"


SWATCH = set("━─┅■●▲✖◆")  # a text of these alone is a colour key beside the words it marks: left out


def _check_contrast(panel: str, widget, text: str, fg: str | None, bg: str, what: str, out: list) -> None:
    if not fg or not text.strip():
        return
    if set(text.strip()) <= SWATCH:
        return
    ratio = contrast(_rgb(widget, fg), _rgb(widget, bg))
    if ratio < AA:
        out.append(Finding(panel, "contrast", _label(widget, text), f"{what}: {fg} on {bg} is {ratio:.2f}:1",
                           round(ratio, 2)))


def _clipped_by(widget) -> str | None:
    """The container whose right or bottom edge cuts `widget` off (a widget may be given its full size and
    still be drawn only in part, when its container is narrower than the row it sits in)."""
    left, top = widget.winfo_rootx(), widget.winfo_rooty()
    right, bottom = left + widget.winfo_width(), top + widget.winfo_height()
    node = widget.master
    while node is not None:
        if isinstance(node, ctk.CTkScrollableFrame):  # it scrolls: what is below its fold is reachable
            return None
        edge_x, edge_y = node.winfo_rootx() + node.winfo_width(), node.winfo_rooty() + node.winfo_height()
        if right > edge_x + 1:
            return f"{type(node).__name__} ends at x={edge_x - left} px of it"
        if isinstance(node, ctk.CTk | ctk.CTkToplevel):
            return None if bottom <= edge_y + 1 else None  # below the window: the window's own size
        node = node.master
    return None


def _check_cut(panel: str, widget, text: str, padding: int, out: list) -> None:
    if not text.strip():
        return
    needed = _needed_width(widget, text) + padding
    given = widget.winfo_width()
    if given + 1 < needed:
        out.append(Finding(panel, "cut", _label(widget, text), f"{given} px wide, its text needs {needed} px"))
        return
    clipped = _clipped_by(widget)
    if clipped:
        out.append(Finding(panel, "cut", _label(widget, text), f"{given} px wide, but {clipped}"))


def _check_table(panel: str, tree, out: list[Finding]) -> None:
    """A ttk.Treeview's headings and cells against its columns' widths (Tk cuts them without a mark)."""
    import tkinter.font

    font = tkinter.font.Font(font=("TkDefaultFont", 10))
    for column in tree.cget("columns"):
        width = int(tree.column(column, "width"))
        texts = [str(tree.heading(column, "text"))] + [str(tree.set(item, column)) for item in tree.get_children()]
        for text in texts:
            if text and font.measure(text) + 10 > width:
                out.append(Finding(panel, "cut", f"Treeview column '{column}' '{text[:40]}'",
                                   f"{width} px wide, its text needs {font.measure(text) + 10} px"))


def audit_widget(panel: str, widget, out: list[Finding]) -> None:
    if not _visible(widget):
        return
    from tkinter import ttk

    if isinstance(widget, ttk.Treeview):
        _check_table(panel, widget, out)
        return
    if isinstance(widget, ctk.CTkTextbox) and str(widget._textbox.cget("wrap")) == "none":
        font = _font(widget)
        room = widget.winfo_width() - 2 * 8  # its inner padding
        for line in widget.get("1.0", "end").splitlines():
            if line and font.measure(line) > room:
                out.append(Finding(panel, "cut", _label(widget, line),
                                   f"{room} px of room, the line needs {font.measure(line)} px"))
                break
        return
    text = _text(widget)
    disabled = _state(widget) == "disabled"
    if isinstance(widget, ctk.CTkSegmentedButton):
        pass  # its buttons are CTkButtons below
    elif isinstance(widget, ctk.CTkButton):
        if not disabled:
            fill = _mode_colour(widget, widget.cget("fg_color")) or _behind(widget)
            fg = _mode_colour(widget, widget.cget("text_color"))
            _check_contrast(panel, widget, text, fg, fill, "text", out)
            hover = _mode_colour(widget, widget.cget("hover_color"))
            if hover and widget.cget("hover"):
                _check_contrast(panel, widget, text, fg, hover, "text when hovered", out)
        _check_cut(panel, widget, text, 2 * 4, out)
    elif isinstance(widget, ctk.CTkLabel):
        _check_contrast(panel, widget, text, _mode_colour(widget, widget.cget("text_color")), background(widget),
                        "text", out)
        _check_cut(panel, widget, text, 0, out)
    elif isinstance(widget, ctk.CTkOptionMenu):
        if not disabled:
            _check_contrast(panel, widget, widget.get(), _mode_colour(widget, widget.cget("text_color")),
                            _mode_colour(widget, widget.cget("fg_color")) or _behind(widget), "text", out)
    elif isinstance(widget, (ctk.CTkSwitch, ctk.CTkCheckBox, ctk.CTkRadioButton)):
        if not disabled:
            _check_contrast(panel, widget, text, _mode_colour(widget, widget.cget("text_color")), _behind(widget),
                            "text", out)
        _check_cut(panel, widget, text, 0, out)
    for child in widget.winfo_children():
        audit_widget(panel, child, out)


def audit(window, panel: str) -> list[Finding]:
    """Cut text and low contrast in what the window shows now (the panel named `panel`)."""
    window.update()
    out: list[Finding] = []
    for child in window.winfo_children():
        audit_widget(panel, child, out)
    seen, unique = set(), []
    for finding in out:
        key = (finding.kind, finding.widget, finding.detail)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique

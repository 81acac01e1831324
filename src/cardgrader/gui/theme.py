"""Colours and styles shared by every panel; (light, dark) pairs follow CustomTkinter's convention."""

from __future__ import annotations

import customtkinter as ctk

ACCENT = ("#1f5f99", "#3b8ed0")  # as text on the window's background: 6.0:1 light, 5.0:1 dark
BUTTON = ("#1f5f99", "#1f5f99")  # a filled control under white / #DCE4EE text: 6.7:1 / 5.2:1
BUTTON_HOVER = ("#144870", "#144870")
BUTTON_TEXT = ("#ffffff", "#dce4ee")
UNSELECTED = ("#5f6b76", "gray29")  # an unselected segment under that text: 5.4:1 / 7.3:1
UNSELECTED_HOVER = ("#4b5563", "gray36")
GO = {"fg_color": ("#166534", "#166534"), "hover_color": ("#14532d", "#14532d")}  # start something: 7.1:1 text
DANGER = {"fg_color": ("#b42318", "#b42318"), "hover_color": ("#912018", "#912018")}  # a button that deletes
MUTED = ("gray34", "gray64")  # 5.2:1 even on a light tab's gray86
SURFACE = ("gray92", "gray14")
CARD = ("gray97", "gray18")
BORDER = ("gray75", "gray30")
OK = ("#166534", "#4ade80")  # as text: 6.6:1 on the light background
SEVERITY = {"error": ("#c62828", "#ff6b6b"), "warning": ("#9a5b00", "#f5b942"), "info": ("#40566b", "#9fb3c8")}
SEVERITY_MARK = {"error": "✖", "warning": "▲", "info": "●"}

# Class colours for overlays and curves: the border classes keep the same colour everywhere.
CLASS_PALETTE = ["#14b8a6", "#f97316", "#a855f7", "#eab308", "#ef4444", "#3b82f6", "#22c55e", "#ec4899"]
FIXED_CLASS_COLORS = {"outer_border": "#14b8a6", "inner_border": "#f97316"}


def apply_palette() -> None:
    """CustomTkinter's blue theme with every text at WCAG AA (4.5:1) or better: its light-mode buttons,
    menus and segments put #DCE4EE on #3B8ED0 (2.7:1) and on #979DA2 (2.1:1). Call before any widget."""
    theme = ctk.ThemeManager.theme
    for name in ("CTkButton", "CTkOptionMenu", "CTkSegmentedButton", "CTkCheckBox", "CTkSwitch", "CTkProgressBar",
                 "CTkSlider"):
        theme.setdefault(name, {})
    theme["CTkButton"].update(fg_color=list(BUTTON), hover_color=list(BUTTON_HOVER), text_color=list(BUTTON_TEXT))
    theme["CTkOptionMenu"].update(fg_color=list(BUTTON), button_color=list(BUTTON_HOVER),
                                  button_hover_color=["#10395a", "#10395a"], text_color=list(BUTTON_TEXT))
    theme["CTkSegmentedButton"].update(fg_color=list(UNSELECTED), selected_color=list(BUTTON),
                                       selected_hover_color=list(BUTTON_HOVER), unselected_color=list(UNSELECTED),
                                       unselected_hover_color=list(UNSELECTED_HOVER), text_color=list(BUTTON_TEXT))
    theme["CTkCheckBox"].update(fg_color=list(BUTTON), hover_color=list(BUTTON_HOVER))
    theme["CTkSwitch"]["progress_color"] = list(BUTTON)
    theme["CTkProgressBar"]["progress_color"] = ["#1f5f99", "#3b8ed0"]


def class_color(name: str, index: int) -> str:
    return FIXED_CLASS_COLORS.get(name, CLASS_PALETTE[index % len(CLASS_PALETTE)])


def mono_font(size: int = 12) -> ctk.CTkFont:
    """The platform's fixed-width family (Tk's TkFixedFont is an alias CTkFont cannot take by name)."""
    import tkinter.font

    try:
        family = tkinter.font.nametofont("TkFixedFont").actual("family")
    except Exception:  # noqa: BLE001 - before a Tk root exists
        family = "Courier"
    return ctk.CTkFont(family=family, size=size)


def is_dark() -> bool:
    return ctk.get_appearance_mode() == "Dark"


def pick(pair: tuple[str, str]) -> str:
    """The colour of a (light, dark) pair for the current appearance (for non-CTk widgets and charts)."""
    return pair[1] if is_dark() else pair[0]


def font(size: int = 13, weight: str = "normal") -> ctk.CTkFont:
    return ctk.CTkFont(size=size, weight=weight)


def style_treeview(widget) -> None:
    """ttk.Treeview has no CustomTkinter twin; style it to match the current appearance."""
    from tkinter import ttk

    dark = is_dark()
    bg, fg, head = ("#1d1e1e", "#dce4ee", "#2b2b2b") if dark else ("#ffffff", "#1a1a1a", "#e5e5e5")
    select = "#1f538d" if dark else "#3a7ebf"
    style = ttk.Style(widget)
    style.theme_use("default")
    style.configure("Runs.Treeview", background=bg, fieldbackground=bg, foreground=fg, rowheight=24,
                    borderwidth=0, font=("TkDefaultFont", 10))
    style.configure("Runs.Treeview.Heading", background=head, foreground=fg, relief="flat",
                    font=("TkDefaultFont", 10, "bold"))
    style.map("Runs.Treeview", background=[("selected", select)], foreground=[("selected", "#ffffff")])
    style.map("Runs.Treeview.Heading", background=[("active", head)])

"""A themed yes/no dialog (tkinter.messagebox ignores CustomTkinter's dark mode)."""

from __future__ import annotations

import customtkinter as ctk

from cardgrader.gui import theme


class ConfirmDialog(ctk.CTkToplevel):
    def __init__(self, parent, title: str, message: str, yes: str = "Yes", no: str = "Cancel", danger: bool = True):
        super().__init__(parent)
        self.title(title)
        self.result = False
        self.resizable(False, False)
        self.transient(parent)
        self.grid_columnconfigure((0, 1), weight=1)
        ctk.CTkLabel(self, text=message, wraplength=380, justify="left", font=theme.font(13)).grid(
            row=0, column=0, columnspan=2, padx=20, pady=(20, 14), sticky="w")
        self.no_button = ctk.CTkButton(self, text=no, width=110, command=self._no,
                                       fg_color=("gray70", "gray30"), hover_color=("gray60", "gray25"))
        self.no_button.grid(row=1, column=0, padx=(20, 6), pady=(0, 18), sticky="e")
        colors = {"fg_color": ("#b42318", "#c0392b"), "hover_color": ("#912018", "#992d22")} if danger else {}
        self.yes_button = ctk.CTkButton(self, text=yes, width=110, command=self._yes, **colors)
        self.yes_button.grid(row=1, column=1, padx=(6, 20), pady=(0, 18), sticky="w")
        self.protocol("WM_DELETE_WINDOW", self._no)
        self.bind("<Escape>", lambda _e: self._no())
        self.after(50, self._center_and_grab)

    def _center_and_grab(self) -> None:
        parent = self.master
        self.update_idletasks()
        x = parent.winfo_rootx() + (parent.winfo_width() - self.winfo_width()) // 2
        y = parent.winfo_rooty() + (parent.winfo_height() - self.winfo_height()) // 3
        self.geometry(f"+{max(x, 0)}+{max(y, 0)}")
        try:
            self.grab_set()
        except Exception:  # noqa: BLE001 - grabbing fails when the dialog is not yet viewable
            pass
        self.yes_button.focus_set()

    def _yes(self) -> None:
        self.result = True
        self.destroy()

    def _no(self) -> None:
        self.result = False
        self.destroy()


def ask(parent, title: str, message: str, yes: str = "Yes", no: str = "Cancel", danger: bool = True) -> bool:
    dialog = ConfirmDialog(parent, title, message, yes, no, danger)
    parent.wait_window(dialog)
    return dialog.result

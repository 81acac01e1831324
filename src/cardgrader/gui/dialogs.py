"""Themed dialogs: yes/no, and a line of text that starts with a value (tkinter.messagebox ignores
CustomTkinter's dark mode, and CTkInputDialog cannot start with text in its field)."""

from __future__ import annotations

import customtkinter as ctk

from cardgrader.gui import theme



def grab_and_focus(dialog, widget) -> None:
    """Make `dialog` modal and put the keyboard on `widget`."""
    try:
        dialog.grab_set()
    except Exception:  # noqa: BLE001 - grabbing fails when the dialog is not yet viewable
        pass
    widget.focus_set()

class ConfirmDialog(ctk.CTkToplevel):
    POLL_MS = 250

    def __init__(self, parent, title: str, message: str, yes: str = "Yes", no: str = "Cancel", danger: bool = True,
                 still_needed=None):
        super().__init__(parent)
        self.title(title)
        self.result = False
        self.moot = False  # the question stopped mattering while it was up (still_needed() turned false)
        self._still_needed = still_needed
        self.resizable(False, False)
        self.transient(parent)
        self.grid_columnconfigure((0, 1), weight=1)
        ctk.CTkLabel(self, text=message, wraplength=380, justify="left", font=theme.font(13)).grid(
            row=0, column=0, columnspan=2, padx=20, pady=(20, 14), sticky="w")
        self.no_button = ctk.CTkButton(self, text=no, width=110, command=self._no,
                                       fg_color=("gray70", "gray30"), hover_color=("gray60", "gray25"))
        self.no_button.grid(row=1, column=0, padx=(20, 6), pady=(0, 18), sticky="e")
        colors = theme.DANGER if danger else {}
        self.yes_button = ctk.CTkButton(self, text=yes, width=110, command=self._yes, **colors)
        self.yes_button.grid(row=1, column=1, padx=(6, 20), pady=(0, 18), sticky="w")
        self.protocol("WM_DELETE_WINDOW", self._no)
        self.bind("<Escape>", lambda _e: self._no())
        self.after(50, self._center_and_grab)
        if still_needed is not None:
            self.after(self.POLL_MS, self._poll)

    def _poll(self) -> None:
        """What the question was about ended behind it (a run finished): the dialog goes, and the answer is
        yes, as nothing is at stake any more."""
        if not self.winfo_exists():
            return
        if self._still_needed():
            self.after(self.POLL_MS, self._poll)
            return
        self.moot = True
        self._yes()

    def _center_and_grab(self) -> None:
        parent = self.master
        self.update_idletasks()
        x = parent.winfo_rootx() + (parent.winfo_width() - self.winfo_width()) // 2
        y = parent.winfo_rooty() + (parent.winfo_height() - self.winfo_height()) // 3
        self.geometry(f"+{max(x, 0)}+{max(y, 0)}")
        grab_and_focus(self, self.yes_button)

    def _yes(self) -> None:
        self.result = True
        self.destroy()

    def _no(self) -> None:
        self.result = False
        self.destroy()


def ask(parent, title: str, message: str, yes: str = "Yes", no: str = "Cancel", danger: bool = True,
        still_needed=None) -> bool:
    """Yes or no; with `still_needed`, the dialog closes by itself, as a yes, once that returns False."""
    dialog = ConfirmDialog(parent, title, message, yes, no, danger, still_needed)
    parent.wait_window(dialog)
    return dialog.result


class TextDialog(ctk.CTkToplevel):
    """One line of text to type, starting with `initial` selected (so typing replaces it)."""

    def __init__(self, parent, title: str, prompt: str, initial: str = "", ok: str = "OK"):
        super().__init__(parent)
        self.title(title)
        self.result: str | None = None
        self.resizable(False, False)
        self.transient(parent)
        self.grid_columnconfigure((0, 1), weight=1)
        ctk.CTkLabel(self, text=prompt, wraplength=380, justify="left", font=theme.font(13)).grid(
            row=0, column=0, columnspan=2, padx=20, pady=(20, 8), sticky="w")
        self.entry = ctk.CTkEntry(self, width=340)
        self.entry.grid(row=1, column=0, columnspan=2, padx=20, pady=(0, 14), sticky="ew")
        self.entry.insert(0, initial)
        self.entry.select_range(0, "end")
        self.cancel_button = ctk.CTkButton(self, text="Cancel", width=110, command=self._cancel,
                                           fg_color=("gray70", "gray30"), hover_color=("gray60", "gray25"))
        self.cancel_button.grid(row=2, column=0, padx=(20, 6), pady=(0, 18), sticky="e")
        self.ok_button = ctk.CTkButton(self, text=ok, width=110, command=self._ok)
        self.ok_button.grid(row=2, column=1, padx=(6, 20), pady=(0, 18), sticky="w")
        self.protocol("WM_DELETE_WINDOW", self._cancel)
        self.bind("<Escape>", lambda _e: self._cancel())
        self.bind("<Return>", lambda _e: self._ok())
        self.after(50, lambda: grab_and_focus(self, self.entry))

    def _ok(self) -> None:
        self.result = self.entry.get().strip()
        self.destroy()

    def _cancel(self) -> None:
        self.result = None
        self.destroy()


def ask_text(parent, title: str, prompt: str, initial: str = "", ok: str = "OK") -> str | None:
    """The text typed (stripped), or None when cancelled."""
    dialog = TextDialog(parent, title, prompt, initial, ok)
    parent.wait_window(dialog)
    return dialog.result

"""The Settings panel: theme, data folder and default device."""

from __future__ import annotations

from tkinter import filedialog

import customtkinter as ctk

from cardgrader import paths
from cardgrader.gui import theme
from cardgrader.gui.widgets import Field, Section

THEMES = {"dark": "Dark", "light": "Light", "system": "System"}


class SettingsPanel(ctk.CTkScrollableFrame):
    def __init__(self, master, app):
        super().__init__(master, fg_color="transparent")
        self.app = app
        self.grid_columnconfigure(0, weight=1)
        ctk.CTkLabel(self, text="Settings", font=theme.font(22, "bold"), anchor="w").grid(
            row=0, column=0, sticky="ew", padx=6, pady=(4, 8))

        look = Section(self, "Appearance")
        look.grid(row=1, column=0, sticky="ew", padx=6, pady=6)
        self.theme = Field(look.body, 0, "Theme", lambda m: ctk.CTkSegmentedButton(
            m, values=list(THEMES.values()), command=self._theme_chosen)).widget
        self.theme.set(THEMES.get(app.settings.get("theme"), "Dark"))

        storage = Section(self, "Data folder",
                          "Runs, models, built datasets, presets and logs live here. A change takes effect at once; "
                          "nothing is moved or copied (the old folder stays as it is).")
        storage.grid(row=2, column=0, sticky="ew", padx=6, pady=6)
        holder = Field(storage.body, 0, "Folder", lambda m: ctk.CTkFrame(m, fg_color="transparent")).widget
        self.home_label = ctk.CTkLabel(holder, text=str(paths.home()), anchor="w")
        self.home_label.grid(row=0, column=0, sticky="w")
        self.change_button = ctk.CTkButton(holder, text="Change…", width=90, command=self._choose_home)
        self.change_button.grid(row=0, column=1, padx=(12, 0))
        self.default_button = ctk.CTkButton(holder, text="Default", width=80, command=lambda: self._set_home(None))
        self.default_button.grid(row=0, column=2, padx=(8, 0))
        self.show_home()

        training = Section(self, "Training")
        training.grid(row=3, column=0, sticky="ew", padx=6, pady=6)
        self.device = Field(training.body, 0, "Default device", lambda m: ctk.CTkOptionMenu(
            m, values=["auto", "cpu", "cuda:0", "mps"], width=120, command=lambda v: app.settings.set("default_device", v)),
            hint="auto uses the first GPU when there is one, else the CPU.").widget
        self.device.set(app.settings.get("default_device"))

    def _theme_chosen(self, label: str) -> None:
        value = {v: k for k, v in THEMES.items()}[label]
        self.app.settings.set("theme", value)
        self.app.apply_theme(value)

    def _choose_home(self) -> None:
        folder = filedialog.askdirectory(parent=self, title="Choose the data folder")
        if folder:
            self._set_home(folder)

    def _set_home(self, folder: str | None) -> None:
        self.app.change_data_folder(folder)

    def show_home(self) -> None:
        """The folder in use; when CARDGRADER_HOME is set it decides, and the buttons say so by being off."""
        variable = paths.home_from_environment()
        self.home_label.configure(text=f"{paths.home()}  (set by CARDGRADER_HOME)" if variable else str(paths.home()))
        state = "disabled" if variable else "normal"
        self.change_button.configure(state=state)
        self.default_button.configure(state=state)

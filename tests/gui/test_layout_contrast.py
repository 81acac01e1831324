"""Every panel at the app's minimum size (1100x720) and at 1600x1000, in both themes: no text cut off,
and every text at WCAG AA contrast (4.5:1) or better, as cardgrader.gui.audit measures them on the real
widgets (scripts/screenshots.py does the same over three sizes and saves what it saw)."""

from __future__ import annotations

from cardgrader.gui.app import PANELS
from cardgrader.gui.audit import audit, contrast
from tests.gui.conftest import pump


def test_the_contrast_figure_is_wcags():
    assert round(contrast((0, 0, 0), (1, 1, 1)), 1) == 21.0
    grey = 0x76 / 255  # #767676 on white: the lightest grey WCAG AA allows for body text
    assert 4.5 <= contrast((grey, grey, grey), (1, 1, 1)) < 4.6


def test_no_panel_cuts_text_or_falls_below_aa_at_either_size_in_either_theme(app):
    before_theme, before_size, before_panel = app.settings.get("theme"), app.geometry(), app.current_panel
    found = []
    try:
        for theme in ("light", "dark"):
            app.apply_theme(theme)
            for size in ("1100x720", "1600x1000"):
                app.geometry(f"{size}+0+0")
                pump(app, 0.4)
                for key, _label in PANELS:
                    app.show_panel(key)
                    pump(app, 0.4)
                    found += [f"{theme} {size} {f.panel}: {f.widget}: {f.detail}" for f in audit(app, key)]
    finally:
        app.apply_theme(before_theme)
        app.geometry(before_size)
        app.show_panel(before_panel)
        pump(app, 0.3)
    assert not found, "\n".join(found)

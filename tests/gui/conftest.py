"""GUI tests share one CustomTkinter root (one Tk per process) and one data dir for the session.

They drive real widgets: clicks go through the widgets' own `invoke`, drops through tkdnd's own Tcl
drop handlers (the code an X drag-and-drop runs), and the Tk event loop is pumped while waiting.
"""

from __future__ import annotations

import os
import time

import pytest

pytestmark = pytest.mark.gui


@pytest.fixture(scope="session")
def gui_home(tmp_path_factory):
    path = tmp_path_factory.mktemp("gui-home")
    os.environ["CARDGRADER_HOME"] = str(path)
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("xdg-config"))
    return path


@pytest.fixture
def home(gui_home, monkeypatch):
    """Overrides the per-test home: the GUI's engine and stores live for the whole session."""
    monkeypatch.setenv("CARDGRADER_HOME", str(gui_home))
    return gui_home


@pytest.fixture(scope="session")
def app(gui_home):
    from cardgrader.gui.app import MainWindow

    window = MainWindow()
    window.update()
    pump(window, 0.6)  # let the deferred start-up work run (engine, charts)
    yield window
    try:
        window.bridge.shutdown(timeout=15)
        window.destroy()
    except Exception:  # noqa: BLE001
        pass


def pump(window, seconds: float = 0.0, until=None, timeout: float = 120.0, step: float = 0.01):
    """Run the Tk event loop for `seconds`, or until `until()` is true (failing after `timeout`)."""
    deadline = time.time() + (timeout if until else seconds)
    while time.time() < deadline:
        window.update()
        if until is not None and until():
            return
        time.sleep(step)
    if until is not None:
        raise AssertionError(f"condition not met within {timeout} s")


def drop(widget, paths: list[str]) -> None:
    """Drop `paths` on `widget` through tkdnd's handlers, as an XDND drop of files would."""
    tk = widget.tk
    data = tk.call("list", *paths)
    target = widget._w
    x, y = widget.winfo_rootx() + 20, widget.winfo_rooty() + 20
    source = "0x1234567"
    tk.call("tkdnd::xdnd::HandleXdndEnter", target, source, ("text/uri-list",), 0)
    tk.call("tkdnd::xdnd::HandleXdndPosition", target, x, y, 0, source)
    tk.call("tkdnd::generic::SetDroppedData", data)
    tk.call("tkdnd::generic::HandleDrop", "", "", "", x, y, 0)


def click_segment(segmented, label: str) -> None:
    """Press one button of a CTkSegmentedButton (its own button widget, so its command runs)."""
    segmented._buttons_dict[label].invoke()


def choose(option_menu, value: str) -> None:
    """Pick a value in a CTkOptionMenu the way its dropdown does."""
    option_menu._dropdown_callback(value)


def type_into(ctk_entry, text: str) -> None:
    """Replace an entry's text and fire the key-release its panel listens to, as typing does."""
    inner = ctk_entry._entry
    inner.focus_force()  # Tk delivers key events to the focused widget
    inner.update()
    ctk_entry.delete(0, "end")
    ctk_entry.insert(0, text)
    inner.event_generate("<KeyRelease>", keysym="End")

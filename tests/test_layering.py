"""The layering of docs/ARCHITECTURE.md: only cardgrader.gui imports Tk; nothing imports the GUI but the CLI;
each core package imports only the packages below it (MAY_IMPORT), counting imports inside functions."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "cardgrader"
TK_MODULES = ("tkinter", "_tkinter", "customtkinter", "tkinterdnd2", "matplotlib.backends.backend_tkagg")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _modules():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        yield rel, _imports(path)


def _matches(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_only_gui_imports_tk():
    offenders = [f"{rel}: {name}" for rel, names in _modules() if rel.parts[0] != "gui"
                 for name in names if _matches(name, TK_MODULES)]
    assert not offenders, "Tk imported outside cardgrader.gui:\n" + "\n".join(offenders)


def test_nothing_but_the_cli_imports_gui():
    allowed = {"cli.py", "commands"}
    offenders = [f"{rel}: {name}" for rel, names in _modules() if rel.parts[0] not in allowed | {"gui"}
                 for name in names if _matches(name, ("cardgrader.gui",))]
    assert not offenders, "cardgrader.gui imported by a core package:\n" + "\n".join(offenders)


def test_the_layering_check_catches_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import customtkinter\nfrom tkinter import ttk\n", encoding="utf-8")
    assert [n for n in _imports(bad) if _matches(n, TK_MODULES)] == ["customtkinter", "tkinter"]


# The arrows of docs/ARCHITECTURE.md, as what each core package may import besides itself and the leaf modules
# (errors, paths, vocabulary, streams, yolo_runtime: top-level modules that import only each other). The application layer
# (gui, cli, commands, frozen, selftest, __main__) may import anything; nothing below it imports it.
MAY_IMPORT = {
    "data": set(),
    "training": {"data"},
    "models": {"data", "training"},
    "grading": {"data", "training", "models", "photometric"},
    "photometric": {"data", "training", "models", "grading"},
    "workstation": {"data", "training", "models"},
}
APPLICATION = {"gui", "cli", "commands", "frozen", "selftest", "__main__"}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layering_breaks(graph: dict[str, set[str]]) -> list[str]:
    """Every import (function-local ones too) that goes against the arrows, as 'a -> b'."""
    packages = {_layer(m) for m in graph if m.count(".") >= 2} | set(MAY_IMPORT)
    leaves = {_layer(m) for m in graph if m.count(".") == 1 and _layer(m) not in packages | APPLICATION}
    breaks = []
    for module, targets in sorted(graph.items()):
        here = _layer(module)
        for target in sorted(targets):
            there = _layer(target)
            if there in ("", here):
                continue
            if here in leaves:
                allowed = there in leaves
            elif here in MAY_IMPORT:
                allowed = there in leaves or there in MAY_IMPORT[here]
            elif here in APPLICATION:
                allowed = True
            else:  # a new package: add it to MAY_IMPORT
                allowed = False
            if not allowed:
                breaks.append(f"{module} -> {target}")
    return breaks


def test_the_packages_import_along_the_arrows_only():
    from tests.test_import_cycles import import_graph

    breaks = layering_breaks(import_graph())
    assert not breaks, "imports against the layering of docs/ARCHITECTURE.md:\n" + "\n".join(breaks)


def test_the_arrows_check_catches_an_import_up_the_layers(tmp_path):
    from tests.test_import_cycles import _write, import_graph

    files = {"cardgrader/__init__.py": "", "cardgrader/data/__init__.py": "",
             "cardgrader/training/__init__.py": "", "cardgrader/models/__init__.py": "",
             "cardgrader/data/scan.py": "from cardgrader import errors\n",
             "cardgrader/training/engine.py": "def f():\n    from cardgrader.models import library\n",
             "cardgrader/models/library.py": "from cardgrader.training import engine\n",
             "cardgrader/errors.py": "from cardgrader.data import scan\n"}
    _write(tmp_path, files)
    assert layering_breaks(import_graph(tmp_path)) == ["cardgrader.errors -> cardgrader.data",
                                                       "cardgrader.errors -> cardgrader.data.scan",
                                                       "cardgrader.training.engine -> cardgrader.models",
                                                       "cardgrader.training.engine -> cardgrader.models.library"]


def test_engine_and_cli_start_without_torch_or_tk():
    """The process that runs the engine (GUI or CLI) must not pay for torch; only the training child does."""
    code = ("import sys, cardgrader.cli, cardgrader.training.engine; cardgrader.cli.build_parser(); "
            "bad = [m for m in ('torch', 'ultralytics', 'tkinter') if m in sys.modules]; print(bad); sys.exit(bool(bad))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_window_starts_without_torch_ultralytics_or_pyplot(tmp_path):
    """The GUI process stays light: training and prediction run in child processes (needs a display)."""
    import os

    import pytest

    if not os.environ.get("DISPLAY"):
        pytest.skip("no display")
    code = ("import sys; from cardgrader.gui.app import MainWindow; w = MainWindow(); w.update(); "
            "[w.update() for _ in range(50)]; w._after_startup(); w.update(); "
            "bad = [m for m in ('torch', 'ultralytics', 'matplotlib.pyplot') if m in sys.modules]; "
            "w.bridge.shutdown(); w.destroy(); print(bad); sys.exit(bool(bad))")
    env = {**os.environ, "CARDGRADER_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_first_frame_builds_only_the_panel_it_shows(tmp_path):
    """Start-up waits for the shown panel only; the others are imported and built after the window shows."""
    import os

    import pytest

    if not os.environ.get("DISPLAY"):
        pytest.skip("no display")
    code = ("import sys; from cardgrader.gui.app import MainWindow; w = MainWindow(); w.update_idletasks(); "
            "later = ['cardgrader.gui.panels.' + k for k in ('train', 'runs', 'photometric', 'models', 'grade')]; "
            "early = [m for m in later if m in sys.modules]; shown = 'cardgrader.gui.panels.data' in sys.modules; "
            "w._after_startup(); w.update(); built = [m for m in later if m in sys.modules]; "
            "w.bridge.shutdown(); w.destroy(); print(early, shown, built); "
            "sys.exit(bool(early) or not shown or built != later)")
    env = {**os.environ, "CARDGRADER_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr

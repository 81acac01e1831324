"""Every panel at the app's minimum size, its default size and 1600x1000, in the dark and the light theme:
a screenshot of each (build/screenshots/<theme>-<size>-<panel>.png) and the audit of what it shows
(text cut off, text below WCAG AA contrast; cardgrader.gui.audit), printed and written to
build/screenshots/audit.json. Needs a display (xvfb-run -a python scripts/screenshots.py) and a data
folder of its own (it sets CARDGRADER_HOME to a temporary one unless one is set).

    xvfb-run -a -s "-screen 0 1920x1200x24" .venv/bin/python scripts/screenshots.py [--panels data,model]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

SIZES = ((1100, 720), (1320, 860), (1600, 1000))
THEMES = ("dark", "light")


def pump(window, seconds: float) -> None:
    end = time.time() + seconds
    while time.time() < end:
        window.update()
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="build/screenshots")
    parser.add_argument("--panels", default="", help="comma-separated panel keys (default: all)")
    parser.add_argument("--sizes", default="", help="e.g. 1100x720,1600x1000 (default: the three)")
    args = parser.parse_args()
    os.environ.setdefault("CARDGRADER_HOME", tempfile.mkdtemp(prefix="cardgrader-shots-"))
    os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp(prefix="cardgrader-shots-config-"))

    from cardgrader.data.sample import generate
    from cardgrader.gui.app import PANELS, MainWindow
    from cardgrader.gui.audit import audit
    from cardgrader.gui.demo import screenshot

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cards = Path(os.environ["CARDGRADER_HOME"]) / "sample cards"
    if not cards.exists():
        generate(cards, count=12, seed=1, size=(240, 320))
    from cardgrader.training import events
    from cardgrader.training.config import TrainingConfig
    from cardgrader.training.store import RunStore

    store = RunStore()  # one stopped run of each architecture, so the Runs table shows its words
    for arch in ("detect", "segment", "obb"):
        record = store.create(TrainingConfig(arch=arch, epochs=3, imgsz=64, name=f"a {arch} run"))
        store.record_event(record.id, {"type": events.CANCELLED, "time": record.started + 42})
    window = MainWindow()
    window.update()
    window._after_startup()
    window.data_panel.add_paths([str(cards)])
    deadline = time.time() + 60
    while time.time() < deadline and (window.data_panel.task is not None or window.data_panel.report is None):
        pump(window, 0.1)
    panels = [k for k, _ in PANELS if not args.panels or k in args.panels.split(",")]
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")] if args.sizes else SIZES
    findings = []
    for theme in THEMES:
        window.apply_theme(theme)
        for width, height in sizes:
            window.geometry(f"{width}x{height}+0+0")
            pump(window, 0.4)
            for key in panels:
                window.show_panel(key)
                pump(window, 0.5)
                views = [key]
                if key == "data":  # its thumbnails too: how many a row holds depends on the width
                    views.append("data-thumbnails")
                if key == "runs":  # and the comparison of the runs
                    views.append("runs-compare")
                for view in views:
                    if view == "runs-compare":
                        window.runs_panel.table.selection_set(window.runs_panel.table.get_children())
                        window.runs_panel.buttons["compare"].invoke()
                        pump(window, 1.0)
                    if view == "data-thumbnails":
                        window.data_panel.tabs.set("Thumbnails")
                        window.data_panel._render_thumbnails()
                        pump(window, 1.5)
                    screenshot(window, out / f"{theme}-{width}x{height}-{view}.png")
                    for finding in audit(window, view):
                        findings.append({"theme": theme, "size": f"{width}x{height}", **finding.__dict__})
                if key == "data":
                    window.data_panel.tabs.set("Report")
    window.bridge.shutdown()
    window.destroy()
    (out / "audit.json").write_text(json.dumps(findings, indent=1), encoding="utf-8")
    for f in findings:
        print(f"{f['theme']:5} {f['size']:9} {f['panel']:11} {f['kind']:8} {f['widget']}: {f['detail']}")
    cut = sum(f["kind"] == "cut" for f in findings)
    low = [f["ratio"] for f in findings if f["kind"] == "contrast"]
    print(f"{len(panels)} panels x {len(sizes)} sizes x {len(THEMES)} themes: {cut} cut texts, {len(low)} texts "
          f"below 4.5:1" + (f" (lowest {min(low):.2f}:1)" if low else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

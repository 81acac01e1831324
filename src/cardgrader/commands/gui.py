"""`cardgrader gui [--demo] [--stats FILE] [--screenshot FILE] [--exit-after-train]`."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("gui", parents=[common], help="open the app (the default with no command)")
    p.add_argument("--demo", action="store_true", help="load sample cards and train a tiny model through the real panels")
    p.add_argument("--stats", metavar="FILE", help="write start-up and responsiveness figures as JSON")
    p.add_argument("--screenshot", metavar="FILE", help="save a PNG of the window once the demo run has finished")
    p.add_argument("--exit-after-train", action="store_true", help="close the app when the demo run has finished")
    p.set_defaults(handler=run_gui)


def run_gui(args: argparse.Namespace) -> int:
    from cardgrader.gui.app import run

    return run(demo=args.demo, stats=args.stats, screenshot=args.screenshot, exit_after_train=args.exit_after_train)

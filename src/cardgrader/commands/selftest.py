"""`cardgrader self-test [--keep DIR] [--no-window] [--json]`: what the packaged app runs to prove it works."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cardgrader.commands.common import print_json


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("self-test", parents=[common],
                       help="in a temporary data folder: draw sample cards, train one epoch, predict, measure "
                            "centering, grade, open the window; one line per step")
    p.add_argument("--keep", metavar="DIR", help="work in DIR and keep what the test made there")
    p.add_argument("--no-window", action="store_true", help="skip opening the window even when a display exists")
    p.add_argument("--json", action="store_true", help="one JSON line per step")
    p.set_defaults(handler=run_self_test)


def _window(_ctx) -> str:
    from cardgrader.gui.app import open_and_close

    return open_and_close()


def run_self_test(args: argparse.Namespace) -> int:
    from cardgrader import selftest
    from cardgrader.gui.probe import tk_status

    steps = list(selftest.STEPS)
    tk = None if args.no_window else tk_status()
    if tk is not None and tk["display_ok"]:
        steps.append(("window", _window))

    def say(result: selftest.StepResult) -> None:
        if args.json:
            print_json(result.to_json())
        else:
            print(result.line(), flush=True)

    start = time.perf_counter()
    results = selftest.run(steps, say, keep=Path(args.keep) if args.keep else None)
    ok = len(results) == len(steps) and all(r.ok for r in results)
    total = time.perf_counter() - start
    skipped = "" if tk is None or tk["display_ok"] else f"; window not opened ({tk['display_detail']})"
    summary = f"self-test {'passed' if ok else 'FAILED'} in {total:.1f} s{skipped}"
    if args.json:
        print_json({"step": "summary", "ok": ok, "seconds": round(total, 2), "detail": summary})
    else:
        print(summary, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1

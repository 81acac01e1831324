"""The `cardgrader` command: one parser, a sub-command per job. No logic of its own — each
sub-command's wiring lives in `cardgrader.commands.<job>` and calls the core packages."""

from __future__ import annotations

import argparse
import importlib
import logging
import multiprocessing
import sys

from cardgrader import __version__, errors
from cardgrader.streams import ensure_streams

# Each top-level command and the module whose `register(subparsers, common_parser)` adds it, in the
# order of --help. The command a command line names is built alone (all of them take 5 ms to build, `ps`
# 0.5 ms). A test holds this to what the modules register.
COMMAND_MODULES = {
    "gui": "cardgrader.commands.gui", "doctor": "cardgrader.commands.doctor",
    "train": "cardgrader.commands.train", "runs": "cardgrader.commands.train",
    "queue": "cardgrader.commands.queue", "models": "cardgrader.commands.models",
    "center": "cardgrader.commands.grading", "grade": "cardgrader.commands.grading",
    "predict": "cardgrader.commands.predict", "export": "cardgrader.commands.export",
    "eval": "cardgrader.commands.evaluate", "data": "cardgrader.commands.data", "ps": "cardgrader.commands.ps",
    "self-test": "cardgrader.commands.selftest",
}
COMMANDS = tuple(dict.fromkeys(COMMAND_MODULES.values()))  # each module once, in that order


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or with `command` (a top-level command's name) only the module that has it."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks instead of one-line errors")
    parser = argparse.ArgumentParser(
        prog="cardgrader", parents=[common],
        description="Train and check computer-vision models for trading-card grading. With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"cardgrader {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS if command not in COMMAND_MODULES else (COMMAND_MODULES[command],):
        importlib.import_module(name).register(sub, common)
    return parser


def _named_command(argv: list[str]) -> str | None:
    """The command a command line names: its first word that is not an option (the top-level options
    take no value)."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_named_command(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        args = build_parser("gui").parse_args(["gui", *argv])
    debug = getattr(args, "debug", False)
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - every failure ends in one sentence, the traceback in the log
        log = errors.log_traceback(exc, "cli.log", f"cardgrader {' '.join(argv)}")
        if debug:
            raise
        print(f"cardgrader: {errors.sentence(exc, log, debug_hint=True)}", file=sys.stderr)
        return errors.exit_code(exc)


def gui_main() -> int:
    """Entry point of the windowed `cardgrader-gui` launcher (no console: its output goes to the log)."""
    ensure_streams()
    return main(["gui", *sys.argv[1:]])


if __name__ == "__main__":
    raise SystemExit(main())

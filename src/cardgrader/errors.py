"""Errors a user can cause. Each carries one plain sentence and the exit code the CLI uses.

`sentence(exc)` is what the CLI prints and the GUI shows for any exception (a UserError's own message, an
OSError naming the file, else an unexpected failure saying where the traceback is); the CLI exits with
`exit_code(exc)`. Tracebacks go to the log (`log_traceback`), never to the user, unless they ask with `--debug`.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path


class UserError(Exception):
    """A failure the user can fix; the message names the file, field or value and what to do."""

    exit_code = 1


class ConfigError(UserError):
    """A bad setting: a config field, preset name or command-line value."""

    exit_code = 2

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class DataError(UserError):
    """Bad input data: a folder, image or label the job cannot use."""

    exit_code = 1


class BusyError(UserError):
    """Another training already holds the machine."""

    exit_code = 1


class ResourceError(UserError):
    """Not enough disk, memory or GPU memory to start."""

    exit_code = 1


class Cancelled(UserError):
    """The user stopped the job; nothing was left half-written."""

    exit_code = 130


def sentence(exc: BaseException, log: str | os.PathLike | None = None, debug_hint: bool = False) -> str:
    """The one plain sentence the GUI and the CLI show for `exc`.

    A UserError is its own message; an OSError names the file and the system's reason; anything else is
    an unexpected failure: its type and first words, and where the traceback is (`log`, the file it was
    written to, None when it could not be; with `debug_hint`, how to see it with --debug).
    """
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, OSError):
        reason = str(exc.strerror or _words(exc) or type(exc).__name__).rstrip(".")
        names = " and ".join(str(n) for n in (exc.filename, exc.filename2) if n is not None)
        return f"Cannot use {names}: {reason}." if names else f"A file or folder cannot be used: {reason}."
    where = f"the traceback is in {log}" if log else "the traceback could not be written to a log"
    if debug_hint:
        where += "; run again with --debug to see it here"
    what = _words(exc, 300)
    return f"Unexpected failure ({type(exc).__name__}{': ' + what if what else ''}); {where}."


def exit_code(exc: BaseException) -> int:
    """The CLI's exit status for `exc`: a UserError's own, 130 for Ctrl-C, else 1."""
    if isinstance(exc, UserError):
        return exc.exit_code
    return 130 if isinstance(exc, KeyboardInterrupt) else 1


def log_traceback(exc: BaseException, name: str, heading: str) -> Path | None:
    """Append `exc`'s traceback under `heading` to logs/`name`; the file, or None when it cannot be written."""
    from cardgrader import paths

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        path = paths.logs_dir() / name
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"--- {heading}\n{text}\n")
        return path
    except OSError:
        return None


def _words(exc: BaseException, limit: int = 300) -> str:
    """The exception's message on one line, at most `limit` characters."""
    return " ".join(str(exc).split())[:limit]

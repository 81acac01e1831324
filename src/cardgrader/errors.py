"""Errors a user can cause. Each carries one plain sentence and the exit code the CLI uses.

The CLI prints `str(error)` and exits with `error.exit_code`; the GUI shows the sentence in a dialog or
inline. Tracebacks go to the log, never to the user, unless they ask with `--debug`.
"""

from __future__ import annotations


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

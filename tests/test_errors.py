"""One sentence for any exception: what the CLI prints and the GUI shows (cardgrader.errors.sentence)."""

from __future__ import annotations

import errno

import pytest

from cardgrader import cli, errors
from cardgrader.errors import Cancelled, ConfigError, DataError, UserError


def test_a_user_error_is_its_own_message_and_exit_code():
    error = ConfigError("--epochs must be 1 or more; got 0.", field="epochs")
    assert errors.sentence(error) == "--epochs must be 1 or more; got 0."
    assert errors.sentence(error, "/logs/cli.log", debug_hint=True) == "--epochs must be 1 or more; got 0."
    assert [errors.exit_code(e) for e in (error, DataError("x"), Cancelled("x"), UserError("x"))] == [2, 1, 130, 1]


def test_an_os_error_names_the_file_and_the_reason():
    error = PermissionError(errno.EACCES, "Permission denied", "/cards/front.jpg")
    assert errors.sentence(error) == "Cannot use /cards/front.jpg: Permission denied."
    moved = OSError(errno.EXDEV, "Invalid cross-device link", "/a", None, "/b")
    assert errors.sentence(moved) == "Cannot use /a and /b: Invalid cross-device link."
    assert errors.sentence(OSError("the disk went away.")) == "A file or folder cannot be used: the disk went away."
    assert errors.exit_code(error) == 1


def test_anything_else_is_an_unexpected_failure_that_says_where_the_traceback_is():
    error = KeyError("arch")
    assert errors.sentence(error, "/logs/gui.log") == "Unexpected failure (KeyError: 'arch'); the traceback is in /logs/gui.log."
    text = errors.sentence(ValueError("line one\n  line two " + "x" * 500), "/logs/cli.log", debug_hint=True)
    assert text.startswith("Unexpected failure (ValueError: line one line two xxx")
    assert text.endswith("; the traceback is in /logs/cli.log; run again with --debug to see it here.")
    assert "\n" not in text and len(text) < 450
    assert errors.sentence(RuntimeError()) == "Unexpected failure (RuntimeError); the traceback could not be written to a log."
    assert errors.exit_code(error) == 1 and errors.exit_code(KeyboardInterrupt()) == 130


def test_the_traceback_goes_to_the_log(home):
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError as exc:
        path = errors.log_traceback(exc, "test.log", "a heading")
    assert path == home / "logs" / "test.log"
    written = path.read_text(encoding="utf-8")
    assert written.startswith("--- a heading\nTraceback") and "ZeroDivisionError: division by zero" in written


@pytest.mark.parametrize("exc, code, expected", [
    (DataError("The folder /x is empty."), 1, "cardgrader: The folder /x is empty."),
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "/x/data.yaml"), 1,
     "cardgrader: Cannot use /x/data.yaml: No such file or directory."),
    (KeyError("arch"), 1, "cardgrader: Unexpected failure (KeyError: 'arch'); the traceback is in {log}; "
                          "run again with --debug to see it here."),
])
def test_the_cli_prints_the_sentence_and_logs_the_traceback(exc, code, expected, monkeypatch, capsys, home):
    from cardgrader.commands import doctor

    def handler(_args):
        raise exc

    monkeypatch.setattr(doctor, "run_doctor", handler)  # registered as the handler when main builds the parser
    assert cli.main(["doctor"]) == code
    log = home / "logs" / "cli.log"
    assert capsys.readouterr().err.strip() == expected.format(log=log)
    assert "--- cardgrader doctor\nTraceback" in log.read_text(encoding="utf-8")

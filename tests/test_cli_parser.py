"""The command line builds only the command it names, and parses exactly as the whole parser does."""

from __future__ import annotations

import argparse
import importlib

import pytest

from cardgrader import cli


def _top_level_names(module: str) -> set[str]:
    common = argparse.ArgumentParser(add_help=False)
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    importlib.import_module(module).register(sub, common)
    return set(sub.choices)


def test_every_command_is_mapped_to_the_module_that_registers_it():
    registered = {name: module for module in cli.COMMANDS for name in _top_level_names(module)}
    assert registered == cli.COMMAND_MODULES


@pytest.mark.parametrize("argv", [
    ["ps", "solve", "capture", "--method", "l2", "--out", "o", "--json"],
    ["--debug", "ps", "validate", "corners", "capture", "--conf", "0.4"],
    ["train", "--preset", "borders", "--epochs", "2"],
    ["runs", "list"],
    ["grade", "--front", "front.jpg", "--back", "backs", "--out", "reports"],
    ["self-test", "--keep", "x", "--json"],
])
def test_a_named_command_parses_as_with_every_command_built(argv):
    alone = cli.build_parser(cli._named_command(argv)).parse_args(argv)
    whole = cli.build_parser().parse_args(argv)
    assert vars(alone) == vars(whole)


def test_no_command_or_help_builds_them_all(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser(cli._named_command(["--help"])).parse_args(["--help"])
    listed = capsys.readouterr().out
    assert all(name in listed for name in cli.COMMAND_MODULES)

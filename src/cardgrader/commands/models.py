"""`cardgrader models list|show|activate|rename|delete|import`: the model library."""

from __future__ import annotations

import argparse
import json
import sys

from cardgrader.commands.common import print_json, table
from cardgrader.training.progress import fmt


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("models", parents=[common], help="the model library: list, show, activate, rename, delete, import")
    actions = p.add_subparsers(dest="action", required=True, metavar="list|show|activate|rename|delete|import")
    a = actions.add_parser("list", parents=[common], help="every model, by line (task / side / architecture)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(handler=run_list)
    a = actions.add_parser("show", parents=[common], help="one model: line, version, classes, metrics, files")
    a.add_argument("model", metavar="MODEL", help="a model name, optionally NAME@VERSION")
    a.add_argument("--json", action="store_true")
    a.set_defaults(handler=run_show)
    a = actions.add_parser("activate", parents=[common], help="make MODEL the one its line uses by default")
    a.add_argument("model", metavar="MODEL")
    a.set_defaults(handler=run_activate)
    a = actions.add_parser("rename", parents=[common], help="give MODEL a new name")
    a.add_argument("model", metavar="MODEL")
    a.add_argument("new", metavar="NEW")
    a.set_defaults(handler=run_rename)
    a = actions.add_parser("delete", parents=[common], help="take MODEL out of the library (its run stays)")
    a.add_argument("model", metavar="MODEL")
    a.set_defaults(handler=run_delete)
    a = actions.add_parser("import", parents=[common], help="add a .pt from elsewhere (checked before it is loaded)")
    a.add_argument("file", metavar="FILE.pt")
    a.add_argument("--name", help="a unique name (default: the file's name)")
    a.add_argument("--task", help="border, corners, edges, surface or centering (guessed from the classes when clear)")
    a.add_argument("--side", help="front, back or both (default both)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(handler=run_import)


def _library():
    from cardgrader.models.library import ModelLibrary

    return ModelLibrary()


def _notes(library) -> None:
    for note in library.notes:
        print(note, file=sys.stderr)


def run_list(args: argparse.Namespace) -> int:
    models = _library().list()
    if args.json:
        print_json([m.to_json() for m in models])
        return 0
    if not models:
        print("No models yet. A finished training run adds one; `cardgrader models import FILE.pt` adds your own.")
        return 0
    rows = [("*" if m.active else "", m.name, m.version, m.task, m.side, m.arch, ", ".join(m.classes),
             fmt(m.metrics.get("mAP50")), fmt(m.metrics.get("mAP50_95")), m.run or "imported") for m in models]
    print(table(rows, ["ACTIVE", "NAME", "VERSION", "TASK", "SIDE", "ARCH", "CLASSES", "mAP50", "mAP50-95", "RUN"]))
    return 0


def run_show(args: argparse.Namespace) -> int:
    model = _library().get(args.model)
    info = model.to_json()
    if args.json:
        print_json(info)
        return 0
    print(f"{model.label}{'  (active)' if model.active else ''}")
    print(f"  line      {model.task} / {model.side} / {model.arch}")
    print(f"  classes   {', '.join(model.classes)}")
    print(f"  metrics   {json.dumps(model.metrics) if model.metrics else '-'}")
    print(f"  package   {model.package}")
    print(f"  from      {'run ' + model.run if model.run else model.imported_from}")
    return 0


def run_activate(args: argparse.Namespace) -> int:
    model = _library().activate(args.model)
    print(f"{model.label} is now the active model for {model.task} / {model.side} / {model.arch}.")
    return 0


def run_rename(args: argparse.Namespace) -> int:
    old = args.model
    model = _library().rename(args.model, args.new)
    print(f"Renamed {old} to {model.label}.")
    return 0


def run_delete(args: argparse.Namespace) -> int:
    library = _library()
    model = library.delete(args.model)
    kept = f" Its run {model.run} and the run's files are kept." if model.run else ""
    print(f"Deleted {model.label} from the library.{kept}")
    _notes(library)
    return 0


def run_import(args: argparse.Namespace) -> int:
    model = _library().import_weights(args.file, name=args.name, task=args.task, side=args.side)
    if args.json:
        print_json(model.to_json())
    else:
        active = " It is the active model of its line." if model.active else ""
        print(f"Imported {args.file} as {model.label} ({model.task} / {model.side} / {model.arch}, "
              f"classes {', '.join(model.classes)}).{active}")
    return 0

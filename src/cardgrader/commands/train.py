"""`cardgrader train` and `cardgrader runs list|show|resume|cancel|delete`."""

from __future__ import annotations

import argparse
import sys
import time

from cardgrader.commands.common import follow_run, print_json, table
from cardgrader.errors import UserError
from cardgrader.training import events
from cardgrader.training.presets import config_from_file, load_preset
from cardgrader.training.progress import fmt, format_duration
from cardgrader.training.request import DEFAULT_SPLIT, RunRequest


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("train", parents=[common], help="train a model (progress bar, or --json events)")
    add_train_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON event per line instead of a progress bar")
    p.set_defaults(handler=run_train)

    runs = sub.add_parser("runs", parents=[common], help="list, show, resume, cancel or delete runs")
    actions = runs.add_subparsers(dest="action", required=True, metavar="list|show|resume|cancel|delete")
    for action, needs_run, helptext in (
        ("list", False, "all runs, newest first"),
        ("show", True, "one run: settings, progress and metrics"),
        ("resume", True, "continue a cancelled, failed or interrupted run"),
        ("cancel", True, "stop a running run (it stays resumable)"),
        ("delete", True, "delete a run and its files"),
    ):
        a = actions.add_parser(action, parents=[common], help=helptext)
        if needs_run:
            a.add_argument("run", metavar="RUN", help="run id, unique id prefix, or name")
        a.add_argument("--json", action="store_true")
        a.set_defaults(handler=RUN_HANDLERS[action])


def add_train_options(p: argparse.ArgumentParser) -> None:
    """What a training is made of: `train` and `queue add` take the same options."""
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", metavar="FILE", help="a YAML file of training settings")
    source.add_argument("--preset", metavar="NAME", help="a preset: quick-test, standard, deep, border-front-dual, ...")
    p.add_argument("--data", metavar="SRC", action="append",
                   help="card photos and labels in any supported format, or a dataset folder or data.yaml; repeat "
                        "for several sources (they are imported together, as dropping them in the app does)")
    p.add_argument("--split", metavar="TRAIN,VAL,TEST", help=f"shares of the imported images (default {DEFAULT_SPLIT})")
    p.add_argument("--seed", type=int, help="seed of the split (default 0)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--imgsz", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--device", metavar="D", help="auto, cpu, cuda:N or a GPU list like 0,1")
    p.add_argument("--weights", metavar="PATH|scratch", help="scratch, a .pt file, or an official name like yolo11n.pt")
    p.add_argument("--name", help="a name for the run")


def request_from_args(args: argparse.Namespace) -> RunRequest:
    config = config_from_file(args.config) if args.config else load_preset(args.preset)
    overrides = {k: getattr(args, k) for k in ("epochs", "imgsz", "batch", "device", "weights", "name")}
    return RunRequest(config.updated(**overrides), list(args.data or []), args.split or DEFAULT_SPLIT,
                      args.seed if args.seed is not None else 0)


def _engine():
    from cardgrader.training.engine import Engine

    return Engine()


def _follow(start, as_json: bool) -> int:
    engine = _engine()
    subscription = engine.subscribe()
    try:
        run_id = start(engine)
        return follow_run(engine, subscription, run_id, as_json)
    finally:
        engine.shutdown()


def run_train(args: argparse.Namespace) -> int:
    request = request_from_args(args)
    return _follow(lambda engine: engine.start(request), args.json)


def _store():
    from cardgrader.training.store import RunStore

    return RunStore()


def runs_list(args: argparse.Namespace) -> int:
    records = _store().list()
    if args.json:
        print_json([r.to_json() for r in records])
        return 0
    if not records:
        print("No runs yet. Start one with `cardgrader train --preset quick-test --data DIR`.")
        return 0
    rows = [
        (r.id, r.name, r.status, r.task, r.arch, r.side, f"{r.epochs_done}/{r.epochs}",
         fmt(r.best_mAP50_95), format_duration(r.duration),
         time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started)) if r.started else None)
        for r in records
    ]
    print(table(rows, ["ID", "NAME", "STATUS", "TASK", "ARCH", "SIDE", "EPOCHS", "BEST mAP50-95", "TIME", "STARTED"]))
    return 0


def runs_show(args: argparse.Namespace) -> int:
    store = _store()
    record = store.resolve(args.run)
    history = store.events(record.id)
    epochs = events.epoch_history(history)
    last = epochs[-1] if epochs else None
    failure = next((e.get("error") for e in reversed(history) if e["type"] == events.FAILED), None)
    detail = {
        **record.to_json(),
        "config": store.config(record.id).to_dict(),
        "last_epoch": last,
        "error": failure if record.status == "failed" else None,
        "events": len(history),
    }
    if args.json:
        print_json(detail)
        return 0
    print(f"{record.name}  ({record.id})")
    print(f"  status      {record.status}")
    print(f"  task        {record.task} · {record.arch} · side {record.side} · border {record.border} · {record.model}")
    print(f"  epochs      {record.epochs_done}/{record.epochs} in {format_duration(record.duration)}")
    if last:
        m = last.get("metrics") or {}
        print("  last epoch  " + "  ".join(f"{k} {fmt(v)}" for k, v in m.items()))
    if record.best_mAP50_95 is not None:
        print(f"  best        mAP50-95 {record.best_mAP50_95:.3f}")
    if detail["error"]:
        print(f"  error       {detail['error']}")
    print(f"  folder      {record.folder}")
    return 0


def runs_resume(args: argparse.Namespace) -> int:
    return _follow(lambda engine: engine.resume(args.run), args.json)


def runs_cancel(args: argparse.Namespace, wait_seconds: float = 15.0) -> int:
    store = _store()
    record = store.resolve(args.run)
    if record.status != "running":
        raise UserError(f"Run '{record.name}' ({record.id}) is not running (it is {record.status}).")
    store.request_cancel(record.id)
    deadline = time.time() + wait_seconds
    while time.time() < deadline:
        record = store.get(record.id)
        if record.status != "running":
            break
        time.sleep(0.2)
    if args.json:
        print_json(record.to_json())
    elif record.status == "running":
        print(f"Asked run '{record.name}' to stop; it has not stopped yet.", file=sys.stderr)
    else:
        print(f"Run '{record.name}' is {record.status} after {record.epochs_done} epochs; "
              f"`cardgrader runs resume {record.id}` continues it.")
    return 0 if record.status != "running" else 1


def runs_delete(args: argparse.Namespace) -> int:
    store = _store()
    record = store.resolve(args.run)
    store.delete(record.id)
    if args.json:
        print_json({"deleted": record.id})
    else:
        print(f"Deleted run '{record.name}' ({record.id}).")
    return 0


RUN_HANDLERS = {"list": runs_list, "show": runs_show, "resume": runs_resume, "cancel": runs_cancel, "delete": runs_delete}

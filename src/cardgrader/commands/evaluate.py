"""`cardgrader eval MODEL... --data DIR_OR_YAML [--split test|val|train]`: score models side by side on a
split they did not train on; per-class metrics and a confusion matrix per model."""

from __future__ import annotations

import argparse

from cardgrader.commands.common import print_json, table


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("eval", parents=[common], help="score models on a dataset split: per-class metrics, confusion matrix")
    p.add_argument("models", nargs="+", metavar="MODEL", help="run ids or names, model name[@version], package folders, .pt")
    p.add_argument("--data", required=True, metavar="DIR_OR_YAML",
                   help="a dataset folder (from `cardgrader data import`) or an Ultralytics data.yaml (only read)")
    p.add_argument("--split", default="test", metavar="test|val|train", help="which split to score on (default test)")
    p.add_argument("--device", metavar="D", help="auto (default), cpu, cuda, cuda:N, mps")
    p.add_argument("--json", action="store_true", help="print one JSON object per model")
    p.set_defaults(handler=run_eval)


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def run_eval(args: argparse.Namespace) -> int:
    from cardgrader.commands.ps import ProgressLine
    from cardgrader.models.evaluate import evaluate
    from cardgrader.models.resolve import resolve_model

    packages = [resolve_model(ref) for ref in args.models]
    line = ProgressLine(not args.json)
    try:
        results = evaluate(packages, args.data, args.split, device=args.device,
                           progress=lambda done, total, message: line(done / total, message))
    finally:
        line.close()
    if args.json:
        for result in results:
            print_json(result.to_json())
        return 0
    first = results[0]
    print(f"{first.split} split of {first.data}: {first.images} images, {first.instances} labelled objects.")
    keys = ("precision", "recall", "mAP50", "mAP50_95")
    rows = [[r.name, *(_fmt(r.metrics.get(k)) for k in keys)] for r in results]
    print(table(rows, ["model", "precision", "recall", "mAP50", "mAP50-95"]))
    classes = [c["class"] for c in first.per_class]
    print()
    per_class_rows = []
    for name in classes:
        for r in results:
            row = next(c for c in r.per_class if c["class"] == name)
            per_class_rows.append([name, r.name, row["instances"], *(_fmt(row[k]) for k in keys)])
    print(table(per_class_rows, ["class", "model", "objects", "precision", "recall", "mAP50", "mAP50-95"]))
    print()
    for r in results:
        print(f"Confusion matrix of '{r.name}': {r.confusion_matrix or 'not drawn (see the log)'}")
    return 0

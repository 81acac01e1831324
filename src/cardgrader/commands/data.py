"""`cardgrader data sample | check | import`: make sample cards, check dropped data, build a training set."""

from __future__ import annotations

import argparse
from contextlib import contextmanager
from pathlib import Path

from cardgrader.commands.common import print_json
from cardgrader.commands.progress import ProgressBar
from cardgrader.errors import ConfigError
from cardgrader.vocabulary import ARCHS, BORDERS, SIDES, TASKS


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("data", parents=[common], help="sample cards, check data, import it for training")
    actions = p.add_subparsers(dest="action", required=True, metavar="sample|check|import")

    s = actions.add_parser("sample", parents=[common], help="write synthetic card photos with exact labels")
    s.add_argument("out", metavar="OUT", help="folder to write images/, labels/, classes.txt and truth.json into")
    s.add_argument("--count", type=int, default=20, help="how many photos (default 20)")
    s.add_argument("--seed", type=int, default=0, help="the same seed gives the same photos (default 0)")
    s.add_argument("--side", choices=SIDES, default="both", help="card fronts, backs or both (default both)")
    s.add_argument("--size", default="480x640", metavar="WxH", help="photo size in pixels (default 480x640)")
    s.add_argument("--defect-rate", type=float, default=0.5, metavar="P",
                   help="share of cards with surface defects, edge and corner wear (default 0.5)")
    s.add_argument("--json", action="store_true", help="print a JSON summary")
    s.set_defaults(handler=run_sample)

    c = actions.add_parser("check", parents=[common],
                           help="validate folders or files and score them (exit 1 on errors)")
    c.add_argument("sources", nargs="+", metavar="SRC",
                   help="dataset folders or files (data.yaml, COCO/LabelMe JSON, VOC XML)")
    c.add_argument("--task", choices=TASKS, help="also check the classes against this task's")
    c.add_argument("--border", choices=BORDERS, default="dual", help="border type for --task border/centering")
    _class_map_option(c)
    c.add_argument("--json", action="store_true", help="print the full report as JSON")
    c.set_defaults(handler=run_check)

    i = actions.add_parser("import", parents=[common], help="build a training-ready Ultralytics dataset")
    i.add_argument("sources", nargs="+", metavar="SRC", help="dataset folders or files to read (never written to)")
    i.add_argument("--out", metavar="DIR", help="where to build it (default: the app's datasets folder)")
    i.add_argument("--arch", choices=ARCHS, required=True, help="the model's architecture")
    i.add_argument("--task", choices=TASKS, required=True, help="what the model finds")
    i.add_argument("--border", choices=BORDERS, default="dual", help="which borders to keep (default dual)")
    i.add_argument("--side", choices=SIDES, default="both", help="keep only fronts or backs (default both)")
    i.add_argument("--split", default="0.8,0.2,0", metavar="TRAIN,VAL,TEST", help="split shares (default 0.8,0.2,0)")
    i.add_argument("--seed", type=int, default=0, help="seed of the split (default 0)")
    _class_map_option(i)
    i.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    i.add_argument("--json", action="store_true", help="print the result as JSON")
    i.set_defaults(handler=run_import)


def _class_map_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--class-map", metavar="FILE",
                        help='JSON object of "source name": "class" (default: class_map.json in the data folder)')


@contextmanager
def _progress(enabled: bool):
    """The data jobs' `progress(done, total, stage)` drawing the terminal bar (None when none is drawn)."""
    with ProgressBar(enabled) as bar:
        yield bar.counts if bar.live else None


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        w = h = 0
    if not (32 <= w <= 8192 and 32 <= h <= 8192):
        raise ConfigError(f"--size must be WIDTHxHEIGHT in pixels, each 32–8192, such as 480x640; got {text!r}.",
                          field="size")
    return w, h


def run_sample(args: argparse.Namespace) -> int:
    from cardgrader.data.sample import generate

    if args.count < 1:
        raise ConfigError(f"--count must be 1 or more; got {args.count}.", field="count")
    if not 0 <= args.defect_rate <= 1:
        raise ConfigError(f"--defect-rate must be between 0 and 1; got {args.defect_rate}.", field="defect_rate")
    size = parse_size(args.size)
    with _progress(not args.json) as progress:
        truths = generate(args.out, count=args.count, seed=args.seed, side=args.side, size=size,
                          defect_rate=args.defect_rate, progress=progress)
    summary = {"out": str(args.out), "images": len(truths), "sides": {s: sum(t.side == s for t in truths)
                                                                     for s in ("front", "back")}}
    if args.json:
        print_json(summary)
    else:
        print(f"Wrote {len(truths)} card photos with labels to {args.out} (truth.json has each card's borders and "
              "centering).")
    return 0


def _class_map(args: argparse.Namespace):
    from cardgrader.data.classmap import ClassMap

    return ClassMap.load(args.class_map)


def run_check(args: argparse.Namespace) -> int:
    from cardgrader.data.check import check
    from cardgrader.data.report import format_text

    class_map = _class_map(args)
    with _progress(not args.json) as progress:
        report = check(args.sources, task=args.task, border=args.border, class_map=class_map, progress=progress)
    if args.json:
        print_json(report.to_dict())
    else:
        print(format_text(report))
    return 0 if report.ok else 1


def run_import(args: argparse.Namespace) -> int:
    from cardgrader.data.build import TRAIN_CONFIG, import_dataset
    from cardgrader.data.report import format_text

    class_map = _class_map(args)
    with _progress(not args.json) as progress:
        result = import_dataset(args.sources, args.out, arch=args.arch, task=args.task, border=args.border,
                                side=args.side, split_ratios=args.split, seed=args.seed, class_map=class_map,
                                progress=progress, force=args.force)
    if args.json:
        print_json(result.to_dict())
        return 0
    if result.reused:
        print(f"Nothing changed since the last import; reusing {result.root}.")
    elif result.report is not None:
        print(format_text(result.report))
    images = ", ".join(f"{k} {v}" for k, v in result.images.items())
    labels = ", ".join(f"{k} {v}" for k, v in result.labels.items())
    print(f"Built {result.arch} dataset for {result.task}: {images} images; labels {labels}.")
    for note in result.notes:
        print(f"  note: {note}")
    if result.left_out:
        print(f"  {result.left_out} images were left out (errors, other side, or other classes only).")
    print(f"Train on it with: cardgrader train --config {Path(result.root) / TRAIN_CONFIG} [--epochs N …]")
    return 0

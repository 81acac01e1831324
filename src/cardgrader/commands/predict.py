"""`cardgrader predict MODEL SRC... --out DIR`: run a model on photos; an overlay and a JSON record per photo."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from cardgrader.commands.common import print_json
from cardgrader.errors import ConfigError


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("predict", parents=[common], help="run a model on photos: overlays and JSON per photo")
    p.add_argument("model", metavar="MODEL",
                   help="run id or name, model name[@version], package folder, .pt or exported .onnx")
    p.add_argument("sources", nargs="+", metavar="SRC", help="photos or folders of photos (read, never written)")
    p.add_argument("--out", metavar="DIR", required=True, help="folder for the overlays and JSON records")
    p.add_argument("--conf", default="0.25", metavar="C", help="confidence threshold, 0 to 1 (default 0.25)")
    p.add_argument("--imgsz", metavar="N", help="the model's input size in pixels (default: what it was trained at)")
    p.add_argument("--device", metavar="D", help="auto (default), cpu, cuda, cuda:N, mps")
    p.add_argument("--json", action="store_true", help="print one JSON object per photo")
    p.set_defaults(handler=run_predict)


def number(text: str, option: str, kind=float, low: float | None = None, high: float | None = None):
    """A command-line number, or a sentence naming the option and the range."""
    try:
        value = kind(text)
    except (TypeError, ValueError):
        value = None
    if value is None or (low is not None and value < low) or (high is not None and value > high):
        what = "a whole number" if kind is int else "a number"
        bounds = f" from {low:g} to {high:g}" if low is not None and high is not None else ""
        raise ConfigError(f"{option} must be {what}{bounds}; got {text!r}.", field=option.lstrip("-"))
    return value


def run_predict(args: argparse.Namespace) -> int:
    from cardgrader.commands.ps import ProgressLine
    from cardgrader.models.exported import resolve_predict_model
    from cardgrader.models.predict import Predictor
    from cardgrader.models.predict_files import plan, predict_files

    conf = number(args.conf, "--conf", float, 0.0, 1.0)
    imgsz = number(args.imgsz, "--imgsz", int, 32, 8192) if args.imgsz is not None else None
    jobs = plan(args.sources, Path(args.out))
    package = resolve_predict_model(args.model)
    predictor = Predictor(package, device=args.device)
    predictor.image_size(imgsz)  # a wrong --imgsz for an exported model is a sentence before any photo
    line = ProgressLine(not args.json)
    failed, counts = 0, Counter()
    try:
        for done, record in enumerate(predict_files(predictor, jobs, conf, imgsz), start=1):
            if args.json:
                print_json(record)
            elif "error" in record:
                line.close()
                print(f"cardgrader: {record['error']}", file=sys.stderr)
            if "error" in record:
                failed += 1
            else:
                counts.update(d["class"] for d in record["detections"])
            line(done / len(jobs), f"{done}/{len(jobs)} photos")
    finally:
        line.close()
    if not args.json:
        found = ", ".join(f"{n} {name}" for name, n in sorted(counts.items())) or "nothing"
        print(f"Predicted {len(jobs) - failed} of {len(jobs)} photos with '{package.name}' "
              f"(conf {conf:g}): found {found}.")
        if failed:
            print(f"{failed} photo{'s' if failed != 1 else ''} could not be read (named above).")
        print(f"Overlays and JSON records in {args.out}")
    return 1 if failed else 0

"""`cardgrader ps solve|calibrate|validate`: photometric stereo from the command line."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from cardgrader.commands.common import print_json
from cardgrader.commands.progress import ProgressBar
from cardgrader.errors import ConfigError

ProgressLine = ProgressBar  # the name `commands.predict`, `commands.evaluate` and older callers import


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    ps = sub.add_parser("ps", parents=[common], help="photometric stereo: normals, depth, defect map, light calibration")
    actions = ps.add_subparsers(dest="action", required=True, metavar="solve|calibrate|validate")

    def capture_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--lights", metavar="FILE", help="lights.json (default: DIR/lights.json or DiLiGenT text files)")
        p.add_argument("--mask", metavar="FILE", help="card mask, non-zero = card (default: DIR/mask.png if present)")
        p.add_argument("--method", choices=("l2", "robust"), default="robust",
                       help="l2: plain least squares; robust: leaves out shadows and highlights (default)")
        p.add_argument("--json", action="store_true", help="print the result as JSON")

    solve = actions.add_parser("solve", parents=[common], help="normals, albedo, depth and defect map of a capture")
    solve.add_argument("dir", metavar="DIR", help="folder of images, one per light")
    capture_options(solve)
    solve.add_argument("--out", metavar="DIR", required=True, help="folder for normals.npy, albedo.npy, ... report.json")
    solve.set_defaults(handler=run_solve)

    cal = actions.add_parser("calibrate", parents=[common], help="light directions from a chrome sphere")
    cal.add_argument("sphere_dir", metavar="SPHERE_DIR", help="sphere images (one per light) and the sphere's mask.png")
    cal.add_argument("--mask", metavar="FILE", help="the sphere's mask (default: SPHERE_DIR/mask.png)")
    cal.add_argument("--out", metavar="lights.json", required=True, help="where to write the lights file")
    cal.add_argument("--json", action="store_true")
    cal.set_defaults(handler=run_calibrate)

    val = actions.add_parser("validate", parents=[common],
                             help="check a surface, border, corners or edges model against photometric stereo")
    val.add_argument("model", metavar="RUN_OR_MODEL", nargs="?",
                     help="run id or name, model name[@version], package folder or .pt (default: the active surface model)")
    val.add_argument("dir", metavar="DIR", help="capture folder (read only)")
    capture_options(val)
    val.add_argument("--image", default="albedo", metavar="albedo|shaded|NAME",
                     help="what the model looks at: the albedo (default), the shaded rendering, or one lit image")
    val.add_argument("--conf", type=float, default=0.25, help="the model's confidence threshold (default 0.25)")
    val.set_defaults(handler=run_validate)


def run_solve(args: argparse.Namespace) -> int:
    from cardgrader.photometric.capture import load_capture
    from cardgrader.photometric.pipeline import analyse_capture
    from cardgrader.photometric.report import OutputWriter

    source, out = Path(args.dir), Path(args.out)
    if source.exists() and out.exists() and out.resolve() == source.resolve():
        raise ConfigError("--out must be another folder than the capture: the capture folder is only read.", field="out")
    start = time.perf_counter()
    capture = load_capture(source, args.lights, args.mask)
    read_seconds = round(time.perf_counter() - start, 3)
    line = ProgressBar(not args.json)
    writer = OutputWriter(out)  # the normals are written while depth and defects are worked out
    try:
        analysis = analyse_capture(capture, args.method, line, solved=writer.solved, integrated=writer.integrated,
                                   outlined=writer.outlined)
    except BaseException:
        writer.close()  # the files already started end before the error is shown
        raise
    finally:
        line.close()
    analysis.seconds = {"read": read_seconds, **analysis.seconds}
    report = writer.finish(analysis, {
        "capture": str(source.resolve()), "images": capture.names, "lights": capture.lights_source,
        "mask": bool(capture.mask is not None),
    })
    if args.json:
        print_json(report)
        return 0
    surface = report["surface"]
    plural = {"crease": "creases", "dent": "dents", "scratch": "scratches"}
    counts = ", ".join(f"{n} {k if n == 1 else plural[k]}" for k, n in surface["counts"].items())
    print(f"Solved {len(capture.names)} images of {capture.size[0]}x{capture.size[1]} px with {args.method} "
          f"in {sum(analysis.seconds.values()):.1f} s.")
    print(f"Surface integrity {surface['integrity']:.0f}/100: {counts}.")
    print(f"Outputs in {out}: {', '.join(Path(p).name for p in report['outputs'].values())}")
    return 0


def run_calibrate(args: argparse.Namespace) -> int:
    from cardgrader.photometric.calibrate import calibrate
    from cardgrader.photometric.lights import write_lights

    lights = calibrate(args.sphere_dir, args.mask)
    path = write_lights(args.out, lights)
    if args.json:
        print_json({"lights": str(path), **lights.to_json()})
    else:
        print(f"Wrote {len(lights.images)} light directions to {path}.")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from cardgrader.photometric.validate import validate

    model = args.model
    if model is None:
        from cardgrader.models.library import ModelLibrary

        active = ModelLibrary().active("surface")
        if active is None:
            raise ConfigError("No surface model is active in the library; name one (RUN_OR_MODEL), or train or "
                              "import a surface model first.", field="model")
        model = active.label
    line = ProgressBar(not args.json)
    try:
        result = validate(model, args.dir, lights=args.lights, mask=args.mask, method=args.method,
                          image=args.image, conf=args.conf, progress=line)
    finally:
        line.close()
    report = result.report
    if args.json:
        print_json(report)
        return 0
    for line in report["summary"]:
        print(line)
    print(f"Report: {result.json_path}")
    print(f"Overlay: {result.overlay_path}")
    return 0

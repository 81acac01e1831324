"""`cardgrader center` and `cardgrader grade`: centering of card photos and per-card grade reports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cardgrader.commands.common import print_json
from cardgrader.errors import ConfigError, UserError


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    c = sub.add_parser("center", parents=[common], help="measure centering: MODEL... (dual, or outer then inner) IMAGE...")
    c.add_argument("items", nargs="+", metavar="MODEL... IMAGE...",
                   help="one dual border model, or an outer model then an inner model, then photos or folders")
    c.add_argument("--side", choices=("front", "back"), default="front", help="which side the photos show (bands)")
    c.add_argument("--no-refine", action="store_true", help="use the model's lines without sub-pixel refinement")
    c.add_argument("--out", metavar="DIR", help="write an overlay per photo here")
    c.add_argument("--device", metavar="D", help="auto, cpu, cuda:N")
    c.add_argument("--json", action="store_true", help="one JSON object per photo per line")
    c.set_defaults(handler=run_center)

    g = sub.add_parser("grade", parents=[common], help="a grade report per card (report.json + report.html)")
    g.add_argument("--front", required=True, metavar="IMG_OR_DIR", help="the front photo, or a folder of fronts")
    g.add_argument("--back", metavar="IMG_OR_DIR", help="the back photo, or a folder of backs (matched by name)")
    g.add_argument("--ps", metavar="CAPTURE_DIR", help="a photometric capture of the front")
    for name, what in (("border", "a dual or outer border model"), ("inner", "an inner-border model"),
                       ("corners", "a corners model"), ("edges", "an edges model"), ("surface", "a surface model")):
        g.add_argument(f"--{name}", metavar="MODEL", help=f"{what} (default: the active one)")
    g.add_argument("--no-refine", action="store_true", help=argparse.SUPPRESS)
    g.add_argument("--device", metavar="D", help="auto, cpu, cuda:N")
    g.add_argument("--out", required=True, metavar="DIR", help="where the reports go")
    g.add_argument("--json", action="store_true", help="print each report's path and overall estimate as JSON")
    g.set_defaults(handler=run_grade)


def _photos(source: str) -> list[Path]:
    from cardgrader.models.predict_files import plan

    return [job.source for job in plan([source], Path("/nonexistent-output"))]


def _check_out(out: Path, sources: list[str]) -> None:
    from cardgrader.data.layout import is_inside

    for source in sources:
        folder = Path(source) if Path(source).is_dir() else Path(source).parent
        if is_inside(out.resolve(), folder.resolve()):
            raise ConfigError(f"--out {out} is inside {folder}; your folders are only read. Choose another folder.",
                              field="out")


def run_center(args: argparse.Namespace) -> int:
    from cardgrader.grading.card import border_models, center_photo, centering_bands, draw_centering, split_models_and_images
    from cardgrader.models.predict_files import plan

    model_refs, sources = split_models_and_images(args.items)
    if not model_refs:
        raise ConfigError("Name a border model before the photos: `center MODEL IMAGE...` (a dual model) or "
                          "`center OUTER INNER IMAGE...`.", field="model")
    if len(model_refs) > 2:
        raise ConfigError(f"`center` takes one dual border model or an outer and an inner model; got "
                          f"{len(model_refs)}: {', '.join(model_refs)}.", field="model")
    if not sources:
        raise ConfigError("Give at least one photo or folder of photos after the model.", field="image")
    out = Path(args.out) if args.out else None
    if out is not None:
        _check_out(out, sources)
    models = border_models(model_refs[0], model_refs[1] if len(model_refs) == 2 else None, args.side, args.device)
    jobs = plan(sources, out or Path("/nonexistent-output"))
    failed = 0
    for index, job in enumerate(jobs, 1):
        try:
            measured = center_photo(models, job.source, refine=not args.no_refine)
            front, back = (measured.centering, None) if args.side == "front" else (None, measured.centering)
            record = measured.to_json(centering_bands(front, back))
            if out is not None:
                import cv2

                target = job.overlay.with_name(job.overlay.name.replace(".overlay.", ".centering."))
                target.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(target.with_suffix(".png")), draw_centering(measured.photo, measured.centering))
                record["overlay"] = str(target.with_suffix(".png"))
            else:
                record["overlay"] = None
        except UserError as exc:
            failed += 1
            record = {"image": str(job.source), "error": str(exc)}
        if args.json:
            print_json(record)
        elif "error" in record:
            print(f"{job.source}: {record['error']}", file=sys.stderr)
        else:
            psa = record["bands"]["psa"]
            print(f"{job.source}: L/R {record['lr']:.1f}/{100 - record['lr']:.1f}, T/B {record['tb']:.1f}/"
                  f"{100 - record['tb']:.1f} (worst {record['lr_worst']:.1f}, {record['tb_worst']:.1f}), "
                  f"rotation {record['angle_deg']:.2f}°; centering reaches PSA {psa.get('grade')}, "
                  f"BGS {record['bands']['bgs'].get('grade')}, CGC {record['bands']['cgc'].get('grade')}"
                  f" ({index}/{len(jobs)})")
    return 1 if failed else 0


def _pair_backs(fronts: list[Path], back: str | None) -> dict[Path, Path | None]:
    if back is None:
        return {f: None for f in fronts}
    backs = _photos(back)
    if len(fronts) == 1 and len(backs) == 1:
        return {fronts[0]: backs[0]}
    by_stem = {b.stem.lower().replace("back", "").strip("_- "): b for b in backs}
    return {f: by_stem.get(f.stem.lower().replace("front", "").strip("_- ")) for f in fronts}


def run_grade(args: argparse.Namespace) -> int:
    from cardgrader.grading.grade import grade_card, load_models
    from cardgrader.grading.report import write_summary

    out = Path(args.out)
    sources = [s for s in (args.front, args.back, args.ps) if s]
    _check_out(out, sources)
    fronts = _photos(args.front)
    pairs = _pair_backs(fronts, args.back)
    if args.ps and len(fronts) > 1:
        raise ConfigError("--ps is a capture of one card; use it with a single --front photo.", field="ps")
    models = load_models(args.border, args.inner, args.corners, args.edges, args.surface, back=args.back is not None,
                         device=args.device)
    folder_run = Path(args.front).is_dir()
    rows, failed = [], 0
    for index, front in enumerate(fronts, 1):
        target = out / front.stem if folder_run else out
        back = pairs.get(front)
        try:
            report, json_path, html_path = grade_card(
                models, front, target, back=back, capture=Path(args.ps) if args.ps else None,
                refine=not args.no_refine,
                progress=None if args.json else lambda m: print(f"  {m}", file=sys.stderr))
        except UserError as exc:
            failed += 1
            rows.append({"card": front.stem, "front": str(front), "back": str(back or ""), "error": str(exc)})
            if args.json:
                print_json({"image": str(front), "error": str(exc)})
            else:
                print(f"{front}: {exc}", file=sys.stderr)
            continue
        overall = report["overall"]
        centering = report["front"].get("centering") or {}
        rows.append({"card": front.stem, "front": str(front), "back": str(back or ""), "lr": centering.get("lr"),
                     "tb": centering.get("tb"), "report": str(json_path),
                     **{c: overall[c].get("grade") for c in overall}})
        if args.json:
            print_json({"report": str(json_path), "html": str(html_path), "overall": overall})
        else:
            summary = ", ".join(f"{c.upper()} {o.get('grade') or '-'}" for c, o in overall.items())
            print(f"{front.name}: estimate {summary} ({index}/{len(fronts)}); report {html_path}")
    if folder_run:
        write_summary(rows, out / "summary.csv")
        if not args.json:
            print(f"Summary: {out / 'summary.csv'}")
    return 1 if failed else 0

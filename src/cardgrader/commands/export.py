"""`cardgrader export MODEL --format onnx|openvino|torchscript`: export offline, then prove the file computes
what the .pt does."""

from __future__ import annotations

import argparse
import sys

from cardgrader.commands.common import print_json


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("export", parents=[common], help="export a model to ONNX (or TorchScript, OpenVINO) and verify it")
    p.add_argument("model", metavar="MODEL", help="run id or name, model name[@version], package folder or .pt")
    p.add_argument("--format", required=True, metavar="onnx|openvino|torchscript",
                   help="onnx (runs wherever onnxruntime does), torchscript, or openvino (needs the openvino package)")
    p.add_argument("--out", metavar="PATH",
                   help="the file (or a folder for it); default: beside the model's weights in its package")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    from cardgrader.models.export import check_format, export_model
    from cardgrader.models.resolve import resolve_model
    from cardgrader.yolo_runtime import install_network_audit

    install_network_audit()  # a no-op unless CARDGRADER_NETWORK_AUDIT is set (tests prove export stays offline)
    check_format(args.format)  # before loading anything: a missing OpenVINO is a sentence at once
    package = resolve_model(args.model)
    result = export_model(package, args.format, args.out)
    v = result.verification
    if args.json:
        print_json(result.to_json())
    else:
        print(f"Exported '{package.name}' to {args.format}: {result.path}")
        print(f"{v.sentence()[0].upper()}{v.sentence()[1:]}.")
        if package.folder is not None:
            print(f"Recorded in {package.folder / 'metadata.json'} (exports).")
    if not v.verified and args.format != "openvino":
        if args.json:
            print(f"cardgrader: the export at {result.path} is {v.sentence()}.", file=sys.stderr)
        return 1
    return 0

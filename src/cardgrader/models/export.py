"""Exporting a model (ONNX, TorchScript, OpenVINO) through Ultralytics' exporter, offline, and proving the
exported file computes what the `.pt` does.

The proof (`verify`) feeds the same letterboxed photos — the package's own validation images when its
run's dataset is still there, else generated sample cards — to the `.pt` in PyTorch and to the export
(onnxruntime for ONNX, TorchScript's runtime for TorchScript) and compares the raw head outputs anchor
by anchor, before non-maximum suppression: every candidate detection has the same anchor in both, so a
near tie that NMS breaks differently cannot pass for a difference, and a model too weak to be confident
is still compared on its strongest candidates. Each compared candidate's box must overlap its
counterpart with IoU ≥ 0.98 (segment masks too), and its class confidences must agree within 0.02.

Where the file goes: next to the package's weights (inside a run's `model/` folder) unless `--out` says
otherwise; a bare `.pt` exports into the app's `exports/` folder, never next to a user's file. The result
of the check is recorded in the package's metadata.json under "exports".
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from cardgrader import paths
from cardgrader.errors import ConfigError, DataError
from cardgrader.models.predict import load_yolo, read_image
from cardgrader.training.package import Key, ModelPackage, read_metadata, write_metadata

FORMATS = ("onnx", "openvino", "torchscript")
SUFFIX = {"onnx": ".onnx", "torchscript": ".torchscript", "openvino": "_openvino_model"}
IOU_TOLERANCE = 0.02  # matched boxes overlap with IoU >= 0.98
CONF_TOLERANCE = 0.02  # confidences within 0.02
COMPARE_CONF = 0.01  # candidates at or above this confidence (in either model) are compared...
TOP_CANDIDATES = 20  # ...and always the reference's strongest few, so a weak model is still checked
VERIFY_IMAGES = 6


@dataclass
class Verification:
    verified: bool
    max_box_iou_gap: float | None  # the worst 1 - IoU between a candidate's box in the .pt and in the export
    max_conf_gap: float | None  # the worst confidence difference
    max_mask_iou_gap: float | None = None  # segment: the worst 1 - IoU of the candidates' masks
    images: int = 0
    candidates: int = 0  # compared, over all images
    source: str = ""  # which images were used
    error: str | None = None  # why the export could not be compared at all

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def sentence(self) -> str:
        if self.error:
            return f"not verified: {self.error}"
        mask = f", masks {self.max_mask_iou_gap:.4f}" if self.max_mask_iou_gap is not None else ""
        verdict = "verified" if self.verified else "NOT verified (beyond the 0.02 tolerance)"
        return (f"{verdict} against the .pt on {self.images} {self.source}: {self.candidates} candidate detections, "
                f"worst box IoU gap {self.max_box_iou_gap:.4f}{mask}, worst confidence gap {self.max_conf_gap:.4f}")


@dataclass
class ExportResult:
    format: str
    path: Path
    verification: Verification

    def to_json(self) -> dict[str, Any]:
        """The `export --json` shape (README, Command line)."""
        v = self.verification
        return {"format": self.format, "path": str(self.path), "verified": v.verified,
                "max_box_iou_gap": v.max_box_iou_gap, "max_conf_gap": v.max_conf_gap}


# ---- where the export goes ----------------------------------------------------------------------

def _default_folder(package: ModelPackage) -> Path:
    if package.folder is not None:
        return package.folder
    digest = hashlib.sha256(package.weights.read_bytes()).hexdigest()[:8]
    return paths.home() / "exports" / f"{package.weights.stem}-{digest}"


def destination(package: ModelPackage, fmt: str, out: str | Path | None = None) -> Path:
    """The exported file (or OpenVINO folder) for `package`: `out` when given (a folder gets the default
    name inside it), else beside the package's weights."""
    name = package.weights.stem + SUFFIX[fmt]
    if out is None:
        dest = _default_folder(package) / name
    else:
        out = Path(out).expanduser()
        is_file_name = fmt != "openvino" and out.suffix.lower() == SUFFIX[fmt]
        dest = out if is_file_name or (fmt == "openvino" and not out.is_dir()) else out / name
    if dest.resolve() == package.weights.resolve():
        raise ConfigError(f"--out {dest} is the model's own weights file; choose another path.", field="out")
    return dest


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}; got {fmt!r}.", field="format")
    if fmt == "openvino" and importlib.util.find_spec("openvino") is None:
        raise ConfigError("OpenVINO export needs the openvino package, which is not installed here, and cardgrader "
                          "installs nothing at run time: install it (pip install \"openvino>=2024.0.0\") into "
                          "cardgrader's environment, or export to onnx, which OpenVINO can also read.",
                          field="format")


# ---- export -------------------------------------------------------------------------------------

def export_model(package: ModelPackage, fmt: str = "onnx", out: str | Path | None = None) -> ExportResult:
    """Export `package` to `fmt`, verify it against the `.pt`, and record the result in its metadata."""
    check_format(fmt)
    if package.weights.suffix.lower() != ".pt":
        raise ConfigError(f"{package.weights} is already exported; export starts from a .pt model.", field="model")
    dest = destination(package, fmt, out)
    dest.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".export-", dir=dest.parent))
    try:
        # Ultralytics writes the export beside the weights it loaded: a private copy keeps a half-written
        # file out of the package and lets the result land under any name.
        weights = stage / package.weights.name
        shutil.copyfile(package.weights, weights)
        model = load_yolo(weights)
        try:
            with contextlib.redirect_stdout(sys.stderr):
                # dynamic: a portrait photo runs at 640x480 as with the .pt, not padded to 640x640
                dynamic = fmt != "torchscript"
                produced = Path(model.export(format=fmt, imgsz=package.imgsz, device="cpu", dynamic=dynamic,
                                             half=False, simplify=True, verbose=False))
        except Exception as exc:  # noqa: BLE001 - the exporter's failure must end in a sentence
            raise DataError(f"Exporting {package.weights} to {fmt} failed ({type(exc).__name__}: "
                            f"{' '.join(str(exc).split())[:300]}).") from None
        if dest.is_dir() and fmt == "openvino":
            shutil.rmtree(dest)
        os.replace(produced, dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    if fmt == "openvino":
        verification = Verification(False, None, None, error="cardgrader verifies ONNX and TorchScript exports only")
    else:
        verification = verify(package, dest)
    if package.folder is not None:
        record_export(package.folder, fmt, dest, verification)
    return ExportResult(fmt, dest, verification)


def record_export(folder: Path, fmt: str, path: Path, verification: Verification) -> None:
    """Add (or replace) this export's entry under "exports" in the package's metadata.json.

    Written atomically: a reader never sees half a file.
    """
    meta = read_metadata(folder)
    try:
        shown = str(path.resolve().relative_to(folder.resolve()))
    except ValueError:
        shown = str(path.resolve())
    entry = {"format": fmt, "path": shown, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
             **verification.to_json(), "tolerances": {"box_iou_gap": IOU_TOLERANCE, "conf_gap": CONF_TOLERANCE}}
    meta[Key.EXPORTS] = [e for e in meta.get(Key.EXPORTS) or [] if e.get("path") != shown] + [entry]
    write_metadata(folder, meta)


# ---- verification -------------------------------------------------------------------------------

def verification_images(package: ModelPackage, limit: int = VERIFY_IMAGES) -> tuple[list[np.ndarray], str]:
    """Photos to compare on: the run's own validation images when they are still there, else sample cards."""
    import yaml

    from cardgrader.data.layout import list_images

    if package.folder is not None:
        spec_path = package.folder.parent / "dataset.yaml"  # runs/<id>/dataset.yaml beside runs/<id>/model
        try:
            spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
            root = Path(spec["path"])
            found = [] if not isinstance(spec.get("val"), str) else list_images(root / spec["val"])
        except (OSError, yaml.YAMLError, KeyError, TypeError):
            found = []
        picked = [found[int(i)] for i in np.linspace(0, len(found) - 1, min(limit, len(found)))] if found else []
        images = []
        for path in dict.fromkeys(picked):
            with contextlib.suppress(DataError):
                images.append(read_image(path))
        if images:
            return images, "validation images of its run's dataset"
    from cardgrader.data.sample import render

    cards = [render(np.random.default_rng(seed), ("front", "back")[seed % 2], (480, 640))[0] for seed in range(4)]
    return cards, "generated sample cards"


def _letterbox(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """What Ultralytics' predictor feeds a fixed-size model: letterboxed, RGB, CHW, 0-1 float32."""
    from ultralytics.data.augment import LetterBox

    boxed = LetterBox(size, auto=False, stride=32)(image=image)
    return np.ascontiguousarray(boxed[:, :, ::-1].transpose(2, 0, 1)[None], dtype=np.float32) / 255.0


def _tensors(output: Any) -> list[np.ndarray]:
    """The head's outputs as arrays, in order (PyTorch models also return training-side dicts: skipped)."""
    if isinstance(output, dict):
        return []
    if isinstance(output, (list, tuple)):
        return [a for item in output for a in _tensors(item)]
    return [output.detach().cpu().float().numpy() if hasattr(output, "detach") else np.asarray(output, np.float32)]


class _Runner:
    """Runs an exported file on a letterboxed batch; the runtime each format ships with."""

    def __init__(self, path: Path, fmt: str):
        self.fmt = fmt
        if fmt == "onnx":
            import onnxruntime

            try:
                self.session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            except Exception as exc:  # noqa: BLE001 - a damaged file must end in a sentence
                raise _CannotCompare(f"onnxruntime cannot load {path.name} ({type(exc).__name__}: "
                                     f"{' '.join(str(exc).split())[:200]})") from None
            shape = self.session.get_inputs()[0].shape
            self.size = tuple(shape[2:4]) if all(isinstance(v, int) for v in shape[2:4]) else None
        else:
            import torch

            try:
                self.module = torch.jit.load(str(path), map_location="cpu").eval()
            except Exception as exc:  # noqa: BLE001
                raise _CannotCompare(f"TorchScript cannot load {path.name} ({type(exc).__name__})") from None
            self.size = None

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        if self.fmt == "onnx":
            name = self.session.get_inputs()[0].name
            return [np.asarray(o, np.float32) for o in self.session.run(None, {name: batch})]
        import torch

        with torch.no_grad():
            return _tensors(self.module(torch.from_numpy(batch)))


class _CannotCompare(Exception):
    pass


def _xyxy(xywh: np.ndarray) -> np.ndarray:
    return np.concatenate([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], axis=1)


def _box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of corresponding rows of two (N, 4) xywh arrays."""
    a, b = _xyxy(a), _xyxy(b)
    iw = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    ih = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    inter = iw * ih
    union = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 1.0)


def _rotated_iou(a: np.ndarray, b: np.ndarray, angle_a: np.ndarray, angle_b: np.ndarray) -> np.ndarray:
    """IoU of corresponding oriented boxes (xywh + angle in radians)."""
    import cv2

    out = np.ones(len(a))
    for k in range(len(a)):
        ra = ((float(a[k, 0]), float(a[k, 1])), (float(a[k, 2]), float(a[k, 3])), float(np.degrees(angle_a[k])))
        rb = ((float(b[k, 0]), float(b[k, 1])), (float(b[k, 2]), float(b[k, 3])), float(np.degrees(angle_b[k])))
        area_a, area_b = a[k, 2] * a[k, 3], b[k, 2] * b[k, 3]
        kind, points = cv2.rotatedRectangleIntersection(ra, rb)
        inter = cv2.contourArea(cv2.convexHull(points)) if points is not None and len(points) >= 3 else 0.0
        if kind == cv2.INTERSECT_FULL and abs(area_a - area_b) < 1e-6 * max(area_a, 1.0):
            inter = min(area_a, area_b)
        union = area_a + area_b - inter
        out[k] = inter / union if union > 0 else 1.0
    return out


def _soft_mask_iou(coef_a: np.ndarray, coef_b: np.ndarray, protos_a: np.ndarray, protos_b: np.ndarray) -> np.ndarray:
    """Per candidate: IoU of its two soft masks (sigmoid of coefficients x prototypes): no pixel flips."""
    def masks(coef, protos):
        return 1.0 / (1.0 + np.exp(-(coef @ protos.reshape(protos.shape[0], -1))))

    ma, mb = masks(coef_a, protos_a[0]), masks(coef_b, protos_b[0])
    return np.minimum(ma, mb).sum(1) / np.maximum(np.maximum(ma, mb).sum(1), 1e-12)


def _compare(arch: str, nc: int, ref: list[np.ndarray], exp: list[np.ndarray]) -> tuple[float, float, float | None, int]:
    """(box IoU gap, confidence gap, mask IoU gap, candidates) for one image's head outputs."""
    if len(ref) != len(exp) or any(r.shape != e.shape for r, e in zip(ref, exp)):
        raise _CannotCompare(f"its outputs have other shapes than the .pt's ({[e.shape for e in exp]} vs "
                             f"{[r.shape for r in ref]})")
    head_ref, head_exp = ref[0][0], exp[0][0]  # (channels, anchors)
    extra = {"detect": 0, "obb": 1, "segment": ref[1].shape[1] if len(ref) > 1 else 0}.get(arch, 0)
    if head_ref.shape[0] != 4 + nc + extra:
        raise _CannotCompare(f"its head has {head_ref.shape[0]} channels where a {arch} model with {nc} classes "
                             f"has {4 + nc + extra}")
    scores_ref, scores_exp = head_ref[4:4 + nc].T, head_exp[4:4 + nc].T
    best = scores_ref.max(1)
    chosen = (best >= COMPARE_CONF) | (scores_exp.max(1) >= COMPARE_CONF)
    chosen[np.argsort(-best)[:TOP_CANDIDATES]] = True
    index = np.flatnonzero(chosen)
    boxes_ref, boxes_exp = head_ref[:4, index].T, head_exp[:4, index].T
    if arch == "obb":
        iou = _rotated_iou(boxes_ref, boxes_exp, head_ref[4 + nc, index], head_exp[4 + nc, index])
    else:
        iou = _box_iou(boxes_ref, boxes_exp)
    conf_gap = float(np.abs(scores_ref[index] - scores_exp[index]).max())
    mask_gap = None
    if arch == "segment":
        mask_iou = _soft_mask_iou(head_ref[4 + nc:, index].T, head_exp[4 + nc:, index].T, ref[1], exp[1])
        mask_gap = float(1.0 - mask_iou.min())
    return float(1.0 - iou.min()), conf_gap, mask_gap, len(index)


def verify(package: ModelPackage, exported: str | Path, images: Sequence[np.ndarray] | None = None) -> Verification:
    """Compare an exported model with the package's `.pt` on the same photos (see the module's docstring).

    Returns verified=False with `error` set when the export cannot even be run or read (a damaged file);
    never raises for a bad export.
    """
    import torch

    exported = Path(exported)
    fmt = "onnx" if exported.suffix.lower() == ".onnx" else "torchscript"
    source = "given images"
    if images is None:
        images, source = verification_images(package)
    try:
        runner = _Runner(exported, fmt)
    except _CannotCompare as exc:
        return Verification(False, None, None, images=0, source=source, error=str(exc))
    size = runner.size or (package.imgsz, package.imgsz)
    reference = load_yolo(package.weights).model.float().eval()
    worst_box, worst_conf, worst_mask, candidates = 0.0, 0.0, None, 0
    for image in images:
        batch = _letterbox(image, size)
        with torch.no_grad():
            ref = _tensors(reference(torch.from_numpy(batch)))
        try:
            exp = runner(batch)
            box, conf, mask, n = _compare(package.arch, len(package.classes), ref, exp)
        except _CannotCompare as exc:
            return Verification(False, None, None, images=len(images), source=source, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - a broken graph fails at run time; that is a failed check
            return Verification(False, None, None, images=len(images), source=source,
                                error=f"running it failed ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})")
        worst_box, worst_conf, candidates = max(worst_box, box), max(worst_conf, conf), candidates + n
        if mask is not None:
            worst_mask = max(worst_mask or 0.0, mask)
    ok = worst_box <= IOU_TOLERANCE and worst_conf <= CONF_TOLERANCE and (worst_mask or 0.0) <= IOU_TOLERANCE
    return Verification(bool(ok), round(worst_box, 6), round(worst_conf, 6),
                        None if worst_mask is None else round(worst_mask, 6), len(images), candidates, source)

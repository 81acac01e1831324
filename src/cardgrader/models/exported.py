"""Reading an exported `.onnx` as a model to predict with: what it detects comes from the metadata
Ultralytics writes into the file (task, class names, image size), or from the package's metadata.json
beside it when the file lacks them.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from cardgrader.errors import ConfigError
from cardgrader.training.package import DEFAULT_IMGSZ, METADATA, Key, ModelPackage, read_metadata


def _literal(text: str | None) -> Any:
    try:
        return ast.literal_eval(text) if text else None
    except (ValueError, SyntaxError):
        return None


def onnx_metadata(path: Path) -> dict[str, str]:
    """The key/value metadata of an ONNX file; a sentence when it is not one."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - a damaged file must end in a sentence
        raise ConfigError(f"{path} is not a readable ONNX model ({type(exc).__name__}); it is damaged or was not "
                          "written by an ONNX exporter. Export it again with `cardgrader export`.", field="model") from None
    return {p.key: p.value for p in model.metadata_props}


def read_onnx(path: str | Path) -> ModelPackage:
    """An exported ONNX model as a ModelPackage (weights = the .onnx)."""
    path = Path(path)
    meta = onnx_metadata(path)
    sibling: dict[str, Any] = {}
    try:
        sibling = read_metadata(path.parent)
    except ConfigError:  # no package beside it, or an unreadable one: the ONNX file's own metadata decides
        pass
    names = _literal(meta.get("names"))
    if isinstance(names, dict) and names:
        classes = [str(names[k]) for k in sorted(names)]
    elif isinstance(sibling.get(Key.CLASSES), list) and sibling[Key.CLASSES]:
        classes = [str(c) for c in sibling[Key.CLASSES]]
    else:
        raise ConfigError(f"{path} does not say which classes it detects (no class names in its metadata and no "
                          f"{METADATA} beside it); export it with `cardgrader export`.", field="model")
    size = _literal(meta.get("imgsz"))
    imgsz = max(size) if isinstance(size, (list, tuple)) and size else int(sibling.get(Key.IMGSZ) or DEFAULT_IMGSZ)
    arch = meta.get("task") or sibling.get(Key.ARCH) or "detect"
    args = _literal(meta.get("args"))
    dynamic = bool(args.get("dynamic")) if isinstance(args, dict) else False  # any input size, or only imgsz
    return ModelPackage(weights=path, arch=str(arch), classes=classes, imgsz=int(imgsz), task=sibling.get(Key.TASK),
                        name=str(sibling.get(Key.NAME) or path.stem), run_id=sibling.get(Key.RUN), folder=None,
                        metadata={"exported": True, "dynamic": dynamic, **({"package": sibling} if sibling else {})})


def resolve_predict_model(ref: str | Path) -> ModelPackage:
    """What `predict` accepts: everything `resolve_model` does, and an exported `.onnx` file."""
    path = Path(ref).expanduser()
    if path.suffix.lower() == ".onnx" and path.is_file():
        return read_onnx(path)
    from cardgrader.models.resolve import resolve_model

    return resolve_model(ref)

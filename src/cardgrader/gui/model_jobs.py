"""What the Models and Predict panels hand to a child process (`offload.run_in_process`): each loads
torch and Ultralytics, so none of it may run in the window's process. Arguments and results are plain
data (str, dict, list) that cross the process boundary unchanged."""

from __future__ import annotations

from typing import Any


def import_model(file: str, name: str | None, task: str | None, side: str | None) -> dict[str, Any]:
    """`models import`: check the .pt, read its classes, add it to the library; the new entry as JSON."""
    from cardgrader.models.library import ModelLibrary

    return ModelLibrary().import_weights(file, name=name, task=task, side=side).to_json()


def predict_photos(package: str, photos: list[str], conf: float, report) -> int:
    """`predict` for the Predict panel: load the model once, then report `{image, prediction}` per photo as
    it is done (a plain `Prediction`), or `{image, error}` for one that cannot be read; the others still run."""
    from cardgrader.errors import DataError
    from cardgrader.models import resolve_model
    from cardgrader.models.predict import Predictor

    predictor = Predictor(resolve_model(package))
    for photo in photos:
        try:
            report({"image": photo, "prediction": predictor.predict_image(photo, conf=conf)})
        except DataError as exc:
            report({"image": photo, "error": str(exc)})
    return len(photos)


def export_onnx(package: str) -> dict[str, Any]:
    """`export --format onnx` for the Models panel: the export beside the package's weights, checked with
    onnxruntime against the .pt; `export --json`'s fields plus the check in a sentence."""
    from cardgrader.models import resolve_model
    from cardgrader.models.export import export_model

    result = export_model(resolve_model(package), "onnx")
    return {**result.to_json(), "check": result.verification.sentence()}

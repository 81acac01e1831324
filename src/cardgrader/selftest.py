"""`cardgrader self-test`: the proof that an installed (or frozen) app trains, predicts, measures and grades.

Everything happens in a temporary data folder (CARDGRADER_HOME points there for the duration, so the
user's runs, models and settings are never touched), offline, with the same code paths the app uses:

1. sample   draw a few sample cards and build a border dataset from them;
2. train    one epoch from a model definition, in the training child process the engine starts;
3. predict  the run's model on a card photo, with an overlay written to disk;
4. center   the eight border lines measured on that card and looked up in the grading tables. A one-epoch
            model rarely finds both borders, so when it does not, the coarse lines come from the sample
            card's own labels and the step says so; the sub-pixel refinement and band lookup are the same;
5. grade    a grade report (JSON and HTML) for the card;
6. window   (added by the command when a display exists) the main window opened and closed.

Each step prints one line with its time; the first step that fails ends the test with its error.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CARDS, SIZE, EPOCHS, IMGSZ = 12, (384, 512), 1, 96
CENTERING_TOLERANCE = 3.0  # points of L/R or T/B between the measured and the drawn centering

Step = Callable[["Context"], str]


@dataclass
class Context:
    """What the steps hand on to each other."""

    root: Path
    dataset_yaml: Path | None = None
    card: Path | None = None
    truth: Any = None  # the sample card's CardTruth
    run_id: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepResult:
    name: str
    ok: bool
    seconds: float
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name:<8} {self.seconds:6.1f} s  {self.detail}"

    def to_json(self) -> dict[str, Any]:
        return {"step": self.name, "ok": self.ok, "seconds": round(self.seconds, 2), "detail": self.detail}


def sample(ctx: Context) -> str:
    from cardgrader.data.build import import_dataset
    from cardgrader.data.sample import generate

    cards = ctx.root / "sample-cards"
    truths = generate(cards, count=CARDS, seed=7, side="front", size=SIZE, workers=2)
    ctx.card, ctx.truth = cards / truths[0].image, truths[0]
    result = import_dataset([cards], ctx.root / "dataset", arch="detect", task="border", border="dual",
                            side="front", split_ratios=(0.75, 0.25, 0.0), seed=0, force=True)
    ctx.dataset_yaml = Path(result.data_yaml)
    return f"{CARDS} sample cards drawn, dataset built ({ctx.dataset_yaml.name})"


def train(ctx: Context) -> str:
    from cardgrader.training.config import TrainingConfig
    from cardgrader.training.engine import Engine

    config = TrainingConfig(task="border", arch="detect", side="front", data=str(ctx.dataset_yaml),
                            epochs=EPOCHS, imgsz=IMGSZ, batch=4, workers=0, plots=False, patience=0,
                            augment="light", name="self-test")
    engine = Engine()
    try:
        ctx.run_id = engine.start(config)
        status = engine.wait(ctx.run_id, timeout=900)
        record = engine.store.get(ctx.run_id)
        if status != "finished":
            error = next((e.get("error") for e in reversed(engine.store.events(ctx.run_id))
                          if e.get("type") == "failed" and e.get("error")), None)
            raise RuntimeError(f"the run ended {status}" + (f": {error}" if error else ""))
    finally:
        engine.shutdown()
    return f"{record.epochs_done} epoch in the training child process, run {ctx.run_id}"


def predict(ctx: Context) -> str:
    from cardgrader.models import resolve_model
    from cardgrader.models.predict import ALL_CONF, Predictor
    from cardgrader.models.predict_files import plan, predict_files

    predictor = Predictor(resolve_model(ctx.run_id))
    results = list(predict_files(predictor, plan([ctx.card], ctx.root / "predictions"), conf=ALL_CONF))
    if not results or results[0].get("error"):
        raise RuntimeError(results[0]["error"] if results else "no prediction was made")
    overlay = results[0].get("overlay")
    if not overlay or not Path(overlay).is_file():
        raise RuntimeError("the prediction overlay was not written")
    ctx.facts["detections"] = len(results[0]["detections"])
    return f"{len(results[0]['detections'])} detections on {ctx.card.name}, overlay written"


def center(ctx: Context) -> str:
    from cardgrader.grading.card import border_models, center_photo, centering_bands
    from cardgrader.grading.centering import measure
    from cardgrader.grading.quads import CenteringError, quad_from_polygon
    from cardgrader.models.predict import read_image

    models = border_models(ctx.run_id, side="front")
    try:
        centering = center_photo(models, ctx.card).centering
        source = "lines from the model"
    except CenteringError:
        photo = read_image(ctx.card)
        outer, inner = quad_from_polygon(ctx.truth.outline), quad_from_polygon(ctx.truth.inner)
        centering = measure(photo, outer, inner, refine=True)
        source = "coarse lines from the card's labels (the one-epoch model found no borders)"
        off = max(abs(centering.lr - ctx.truth.centering_lr), abs(centering.tb - ctx.truth.centering_tb))
        if off > CENTERING_TOLERANCE:
            raise RuntimeError(f"centering measured L/R {centering.lr:.1f}, T/B {centering.tb:.1f} on a card drawn at "
                               f"{ctx.truth.centering_lr:.1f}, {ctx.truth.centering_tb:.1f}: off by {off:.1f} points")
    psa = centering_bands(centering)["psa"]
    return (f"L/R {centering.lr:.1f}, T/B {centering.tb:.1f} (drawn: {ctx.truth.centering_lr:.1f}, "
            f"{ctx.truth.centering_tb:.1f}), PSA ceiling {psa.get('grade')}; {source}")


def grade(ctx: Context) -> str:
    from cardgrader.grading.grade import grade_card, load_models

    out = ctx.root / "grade"
    report, json_path, html_path = grade_card(load_models(border=ctx.run_id), ctx.card, out)
    if not (json_path.is_file() and html_path.is_file()):
        raise RuntimeError("the grade report was not written")
    psa = (report.get("overall") or {}).get("psa") or {}
    overall = psa.get("grade") or psa.get("limited_by") or "not assessed"
    return f"report.json and report.html written (PSA: {overall})"


STEPS: list[tuple[str, Step]] = [("sample", sample), ("train", train), ("predict", predict), ("center", center),
                                 ("grade", grade)]


def run(steps: list[tuple[str, Step]], say: Callable[[StepResult], None], keep: Path | None = None) -> list[StepResult]:
    """Run `steps` in a fresh data folder; stops at the first failure. Returns every step's result."""
    root = Path(tempfile.mkdtemp(prefix="cardgrader-self-test-")) if keep is None else keep
    root.mkdir(parents=True, exist_ok=True)
    saved = os.environ.get("CARDGRADER_HOME")
    os.environ["CARDGRADER_HOME"] = str(root / "home")
    ctx, results = Context(root), []
    try:
        for name, step in steps:
            start = time.perf_counter()
            try:
                detail, ok = step(ctx), True
            except Exception as exc:  # noqa: BLE001 - a self-test reports every failure as the step's error
                from cardgrader.errors import UserError

                detail = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
                ok = False
            result = StepResult(name, ok, time.perf_counter() - start, detail)
            results.append(result)
            say(result)
            if not ok:
                break
    finally:
        if saved is None:
            os.environ.pop("CARDGRADER_HOME", None)
        else:
            os.environ["CARDGRADER_HOME"] = saved
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return results

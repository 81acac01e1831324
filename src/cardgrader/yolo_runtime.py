"""The Ultralytics adapter: everything cardgrader does to run Ultralytics, and the one place a YOLO model
is loaded (`load_yolo`). Importing this module imports neither torch nor Ultralytics.

The environment must be set before `ultralytics` is imported: Ultralytics reads YOLO_OFFLINE and
YOLO_CONFIG_DIR at import (`configure_environment`). Offline mode alone is not enough, because some code
paths try a download first and only then check whether the machine is online; each is closed here:

- fonts for plots and dataset checks (Arial.ttf, Arial.Unicode.ttf) are seeded from the DejaVu fonts
  matplotlib ships, so `check_font` finds them locally;
- the AMP self-check on CUDA downloads yolo26n.pt; offline it is replaced by a local-only check
  (`patch_ultralytics_offline`, after import);
- Ultralytics' replacement of `PIL.Image.open` would pip-install a plugin; it is undone (`restore_pil_open`);
- official pretrained weights are looked up in our weights dir before training starts (`find_official_weights`).

`install_network_audit` records every network attempt when CARDGRADER_NETWORK_AUDIT names a file (the tests
prove with it that offline work never touches the network). The training child sets up its process with
these same functions.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from pathlib import Path
from typing import Callable

from cardgrader import paths
from cardgrader.errors import ConfigError

NETWORK_AUDIT_ENV = "CARDGRADER_NETWORK_AUDIT"
_NETWORK_EVENTS = ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
                   "urllib.Request")


def configure_environment(allow_download: bool = False) -> None:
    """Point Ultralytics' settings inside our data dir and switch it offline."""
    config_dir = paths.ultralytics_config_dir()
    os.environ["YOLO_CONFIG_DIR"] = str(config_dir)
    if allow_download:
        os.environ.pop("YOLO_OFFLINE", None)
    else:
        os.environ["YOLO_OFFLINE"] = "1"
    os.environ.setdefault("MPLBACKEND", "Agg")
    _seed_fonts(config_dir / "Ultralytics")


def _seed_fonts(target: Path) -> None:
    """Copy matplotlib's DejaVu Sans where Ultralytics looks for Arial (found without importing
    matplotlib, which would cost a training run a quarter of a second)."""
    missing = [target / name for name in ("Arial.ttf", "Arial.Unicode.ttf") if not (target / name).exists()]
    if not missing:
        return
    import importlib.util

    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return
    font = Path(list(spec.submodule_search_locations)[0]) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
    if font.exists():
        target.mkdir(parents=True, exist_ok=True)
        for dest in missing:
            shutil.copyfile(font, dest)


def install_network_audit() -> None:
    """When CARDGRADER_NETWORK_AUDIT names a file, record every attempt to resolve or connect there.

    Used by the tests to prove an offline run never touches the network; harmless otherwise.
    """
    target = os.environ.get(NETWORK_AUDIT_ENV)
    if not target:
        return

    def hook(event: str, args: tuple) -> None:
        if event in _NETWORK_EVENTS:
            with open(target, "a", encoding="utf-8") as handle:
                handle.write(f"{event} {args!r}\n")

    sys.addaudithook(hook)


def restore_pil_open() -> None:
    """Undo Ultralytics' process-wide replacement of `PIL.Image.open`.

    On any file Pillow cannot identify, the replacement tries to pip-install pi-heif (a download at run
    time) and then raises ModuleNotFoundError instead of UnidentifiedImageError, which changes how every
    later check in the process sees a corrupt image. Our data checks report such files themselves.
    """
    from PIL import Image

    try:
        from ultralytics.utils import patches
    except ImportError:
        return
    original = getattr(patches, "_image_open", None)
    if original is not None and Image.open is not original:
        Image.open = original


def patch_ultralytics_offline() -> None:
    """After import: keep Ultralytics from downloading behind our back (PIL plugins, the AMP model)."""
    restore_pil_open()
    if not os.environ.get("YOLO_OFFLINE"):
        return
    from ultralytics.engine import trainer as trainer_module
    from ultralytics.utils import LOGGER, WEIGHTS_DIR

    original = trainer_module.check_amp

    def check_amp_offline(model):  # same contract as ultralytics.utils.checks.check_amp
        if (WEIGHTS_DIR / "yolo26n.pt").is_file():
            return original(model)
        LOGGER.info("AMP: offline, the reference model for the AMP check is not here; using AMP unchecked.")
        return next(model.parameters()).device.type not in {"cpu", "mps"}

    trainer_module.check_amp = check_amp_offline


def find_official_weights(name: str) -> Path | None:
    """A published weights file (e.g. yolo11n.pt) the user already has in our weights dir."""
    for folder in (paths.weights_dir(), paths.ultralytics_config_dir() / "weights"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def load_yolo(weights: str | Path, task: str | None = None, *, check: Callable[[Path], None]):
    """An Ultralytics model from a weights file (`.pt`, or an exported `.onnx`), loaded offline.

    `check` runs on a `.pt` before anything unpickles it (`training.safe_weights.check_weights_file`; it is
    passed in because that module sets up its imports through this one). An `.onnx` is data, never
    unpickled, so it is loaded as it is, with `task` (an exported file may not say which task it is).
    `models.predict.load_yolo` is this with the check filled in; everything outside the training child loads
    through it.

    Ultralytics binds its log handler to whatever stdout is at import time and greets a fresh config
    dir there; importing it with stdout pointed at stderr keeps `--json` output pure JSON.
    """
    configure_environment()
    exported = Path(weights).suffix.lower() == ".onnx"
    if not exported:
        check(Path(weights))
    with contextlib.redirect_stdout(sys.stderr):
        from ultralytics import YOLO

        patch_ultralytics_offline()

        try:
            return YOLO(str(weights), task=task) if exported else YOLO(str(weights))
        except Exception as exc:  # noqa: BLE001 - a damaged or foreign file must end in a sentence
            raise ConfigError(f"The weights file {weights} cannot be loaded as a YOLO model "
                              f"({type(exc).__name__}: {exc}).", field="model") from None

"""A weights file is a pickle, and a pickle can run code: every `.pt` is checked here before anything
unpickles it (training, resume, prediction, export, validation, import).

The check uses torch's own tools rather than a pickle parser of ours:

1. `torch._weights_only_unpickler.get_globals_in_pkl` lists, without running anything, every global the
   pickle names. Only torch's own weights-only allow-list, `torch.nn` and `ultralytics.nn` module classes,
   and a few plain containers Ultralytics stores (`IterableSimpleNamespace`) may appear; `os.system`,
   `builtins.exec`, unknown modules and everything else refuse the file, naming what it tried to reach.
   Only modules under those prefixes are ever imported to resolve a name.
2. The file is then loaded once with torch's restricted `weights_only` unpickler, allow-listing exactly
   those classes, so what the static listing cannot see (objects built on the stack) is held to the same
   rule. Model classes are registered as stand-ins that can be created the way `torch.save` stores modules
   (`__new__` + state) but not *called*: calling a model class in a pickle would run its constructor,
   which parses a model description and can import or install things.

What it does not promise: that the weights are any good, or that Ultralytics' own code has no bug a
well-formed checkpoint could reach. ONNX is the safer way to share a model (it holds no code).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
import zipfile
from pathlib import Path

from cardgrader.errors import ConfigError

MODULE_PREFIXES = ("torch.nn.modules.", "ultralytics.nn.")
# Plain data holders Ultralytics pickles beside the model (training arguments).
DATA_CLASSES = {"ultralytics.utils.IterableSimpleNamespace", "types.SimpleNamespace", "argparse.Namespace"}
_CHECKED = "cardgrader.checked."  # the name real classes are registered under; never valid in a file


class UnsafeWeightsError(ConfigError):
    """A weights file that is not a plain checkpoint, or reaches for code outside the allow-list."""

    def __init__(self, message: str):
        super().__init__(message, field="weights")


class _NotCallable(type):
    """Metaclass of the stand-ins: building an instance from its state is fine, calling the class is not."""

    def __call__(cls, *args, **kwargs):
        raise UnsafeWeightsError(f"calls {cls.__qualname__}(...)")


def _stand_in(real: type) -> type:
    def new(_cls, *args):
        return real.__new__(real, *args)

    return _NotCallable(real.__qualname__, (), {"__new__": staticmethod(new), "__module__": real.__module__})


def _data_pickle(path: Path) -> bytes:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
            if not names:
                raise UnsafeWeightsError(f"The weights file {path} is not a PyTorch checkpoint (no data.pkl inside); "
                                         "choose a .pt file saved by Ultralytics or cardgrader.")
            if any(n.endswith("/constants.pkl") or n.endswith("/code/") for n in archive.namelist()):
                raise UnsafeWeightsError(f"The weights file {path} is a TorchScript program, not a checkpoint; "
                                         "export it again as a .pt checkpoint or use the .onnx.")
            return archive.read(names[0])
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise UnsafeWeightsError(f"The weights file {path} does not exist.") from None
        raise UnsafeWeightsError(f"The weights file {path} is damaged or not a PyTorch checkpoint "
                                 f"({type(exc).__name__}: {exc}); it may be truncated. Copy it again.") from None


def _resolve(name: str):
    """The object a global names, for names under the allowed prefixes only (None otherwise)."""
    module_name, _, attr = name.rpartition(".")
    if not (name.startswith(MODULE_PREFIXES) or name in DATA_CLASSES):
        return None
    if "ultralytics" not in sys.modules:
        from cardgrader.yolo_runtime import configure_environment

        configure_environment()  # Ultralytics reads its settings at import
    try:
        with contextlib.redirect_stdout(sys.stderr):  # keeps --json output pure
            module = importlib.import_module(module_name)
    except ImportError:
        return None
    return getattr(module, attr, None)


def _allowed_classes(path: Path, names: set[str]) -> dict[str, type]:
    import torch

    allowed: dict[str, type] = {}
    refused = []
    for name in sorted(names):
        obj = _resolve(name)
        if name in DATA_CLASSES and isinstance(obj, type):
            allowed[name] = obj
        elif isinstance(obj, type) and issubclass(obj, torch.nn.Module):
            allowed[name] = obj
        else:
            refused.append(name)
    if refused:
        shown = ", ".join(refused[:5]) + (f" and {len(refused) - 5} more" if len(refused) > 5 else "")
        raise UnsafeWeightsError(
            f"The weights file {path} was refused: it reaches for {shown}, which a model checkpoint never needs "
            "(loading it could run code). Nothing from it was run; use a model from a source you trust, or its .onnx.")
    return allowed


def check_weights_file(path: str | Path) -> None:
    """Raise UnsafeWeightsError (one sentence naming the file and what it reaches for) unless `path` is a
    plain PyTorch checkpoint of Ultralytics modules. Runs nothing from the file."""
    import torch
    from torch import _weights_only_unpickler as restricted

    path = Path(path)
    pickled = _data_pickle(path)
    try:
        names = set(restricted.get_globals_in_pkl(io.BytesIO(pickled)))
    except Exception as exc:  # noqa: BLE001 - a malformed pickle is a refused file
        raise UnsafeWeightsError(f"The weights file {path} has a malformed pickle ({type(exc).__name__}: {exc}); "
                                 "it is damaged or not a checkpoint.") from None
    default_safe = set(restricted._get_allowed_globals())
    classes = _allowed_classes(path, names - default_safe)
    models = {name: cls for name, cls in classes.items() if name not in DATA_CLASSES}
    safe = [(cls, name) for name, cls in classes.items() if name in DATA_CLASSES]
    safe += [(_stand_in(cls), name) for name, cls in models.items()]
    safe += [(cls, _CHECKED + name) for name, cls in models.items()]  # so built instances pass BUILD
    try:
        with torch.serialization.safe_globals(safe):
            torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except UnsafeWeightsError as exc:
        raise UnsafeWeightsError(f"The weights file {path} was refused: its pickle {exc}, which a checkpoint never "
                                 "does (it could run code). Nothing from it was run.") from None
    except Exception as exc:  # noqa: BLE001 - torch's restricted unpickler refused or the file is damaged
        text = " ".join(str(exc).split())
        if "weights_only" in text.lower() or "unpickl" in text.lower():
            first = text.split(". ")[0][:200]
            raise UnsafeWeightsError(f"The weights file {path} was refused by torch's safe loader ({first}). "
                                     "Nothing from it was run.") from None
        raise UnsafeWeightsError(f"The weights file {path} is damaged or not a PyTorch checkpoint "
                                 f"({type(exc).__name__}: {text[:200]}).") from None

"""Trained models: the library, finding a model from what the user typed, and predicting with it."""

from cardgrader.models.package import ModelPackage
from cardgrader.models.resolve import resolve_model

__all__ = ["ModelPackage", "resolve_model"]

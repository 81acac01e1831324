"""Trained models: the library, finding a model from what the user typed, and predicting with it."""

from cardgrader.models.resolve import resolve_model
from cardgrader.training.package import ModelPackage

__all__ = ["ModelPackage", "resolve_model"]

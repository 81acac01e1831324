"""Trained models: find a model package from a run, folder or weights file, and predict with it."""

from cardgrader.models.package import ModelPackage, resolve_model

__all__ = ["ModelPackage", "resolve_model"]

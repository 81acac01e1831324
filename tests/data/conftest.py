"""Data test helpers: paths with spaces and non-ASCII letters, as graders' folders have."""

from __future__ import annotations

import pytest


@pytest.fixture
def odd_dir(tmp_path):
    """A folder whose path has spaces and non-ASCII letters."""
    path = tmp_path / "Kartenfotos ünd Ränder" / "séance 1 — 寸法"
    path.mkdir(parents=True)
    return path

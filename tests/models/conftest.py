from __future__ import annotations

import pytest

from tests.photometric.surface_model import trained_surface_model


@pytest.fixture(scope="session")
def surface_model(tmp_path_factory):
    return trained_surface_model(tmp_path_factory)

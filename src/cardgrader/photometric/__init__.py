"""Photometric stereo: normals, albedo and depth from photos lit from several directions, a defect map
of the card's surface, light calibration from a chrome sphere, and validating surface models with it.

`solve(images, directions, method="l2" | "robust", mask=None)` is the one call benchmarks use;
`load_capture` reads a folder, `analyse` adds depth and the defect map, `validate` checks a model.
"""

from cardgrader.photometric.solvers import METHODS, PhotometricResult, solve

__all__ = ["METHODS", "PhotometricResult", "solve"]

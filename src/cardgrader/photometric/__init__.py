"""Photometric stereo: normals, albedo and depth from photos lit from several directions, a defect map
of the card's surface, light calibration from a chrome sphere, and validating trained models with it
(surface models against the defect map, border models against the card's outline, corners and edges models
against damage at the perimeter).

- `solve(images, directions, method="l2" | "robust", mask=None)`: the one call benchmarks use.
- `load_capture(folder, lights=None, mask=None)`: a folder of images + lights.json (or DiLiGenT's files).
- `analyse(images, directions, method, mask, progress)`: solve, depth, shaded rendering, defect map.
- `calibrate.calibrate(sphere_folder)`, `validate.validate(model, folder)`, `report.write_outputs(...)`.
"""

from cardgrader.photometric.capture import PhotoCapture, load_capture
from cardgrader.photometric.pipeline import Analysis, analyse, analyse_capture
from cardgrader.photometric.solvers import METHODS, PhotometricResult, solve

__all__ = ["METHODS", "Analysis", "PhotoCapture", "PhotometricResult", "analyse", "analyse_capture", "load_capture",
           "solve"]

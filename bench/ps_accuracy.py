"""Photometric-stereo accuracy on a DiLiGenT-like synthetic test bed: `l2` against `robust`.

DiLiGenT itself is not shipped with cardgrader (see `bench/ps_diligent.py` to score a copy you have).
This bench renders objects in its spirit, 96 lights on a 12 x 8 grid, with what makes real captures
hard: attached and cast shadows, Cook-Torrance highlights, Oren-Nayar matte falloff, noise, and light
directions known only to about a degree (the solvers get perturbed directions, as after calibration):

- ball: a glossy sphere (plastic: sharp, strong highlight);
- cat: a blobby relief, glossy ceramic with a slightly matte base;
- bear: a blobby relief, painted (broad highlight, rough base);
- reading: a deep relief that shadows itself, shiny paint.

Prints the mean angular error (degrees) of each method per object and their averages.

    python bench/ps_accuracy.py [--size 192]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

SCENES = {
    "ball": dict(shape="sphere", specular=1.5, roughness=0.15, diffuse_roughness=0.0),
    "cat": dict(shape="bumps", seed=3, relief=1.0, specular=0.8, roughness=0.3, diffuse_roughness=0.2),
    "bear": dict(shape="bumps", seed=5, relief=1.0, specular=0.5, roughness=0.45, diffuse_roughness=0.4),
    "reading": dict(shape="bumps", seed=7, relief=2.5, specular=1.5, roughness=0.25, diffuse_roughness=0.2),
}


def render_scene(name: str, size: int, seed: int = 0):
    """(capture, directions the solver is given) for one scene."""
    from cardgrader.photometric import synthetic

    spec = dict(SCENES[name])
    shape = spec.pop("shape")
    if shape == "sphere":
        height, normals, mask = synthetic.sphere(size)
    else:
        height, normals, mask = synthetic.bumps(size, seed=spec.pop("seed"), relief=spec.pop("relief"))
    lights = synthetic.grid_lights()
    capture = synthetic.render(height, normals, mask, lights, albedo=0.6, noise=0.003, seed=seed, **spec)
    rng = np.random.default_rng(seed + 1)
    given = lights + rng.normal(0, np.radians(1.0) / np.sqrt(2), lights.shape)  # about 1 degree off
    return capture, given / np.linalg.norm(given, axis=1, keepdims=True)


def score(size: int, methods=("l2", "robust"), **solve_args) -> dict[str, dict[str, float]]:
    from cardgrader.photometric import solve, synthetic

    table: dict[str, dict[str, float]] = {}
    for name in SCENES:
        capture, given = render_scene(name, size)
        table[name] = {}
        for method in methods:
            result = solve(capture.images, given, method=method, mask=capture.mask, **solve_args)
            table[name][method] = float(synthetic.angular_error(result.normals, capture.normals, capture.mask).mean())
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=192)
    args = parser.parse_args()
    start = time.perf_counter()
    table = score(args.size)
    print(f"{'object':10s} {'l2':>7s} {'robust':>7s}")
    for name, row in table.items():
        print(f"{name:10s} {row['l2']:7.2f} {row['robust']:7.2f}")
    means = {m: np.mean([row[m] for row in table.values()]) for m in ("l2", "robust")}
    print(f"{'average':10s} {means['l2']:7.2f} {means['robust']:7.2f}   (robust / l2 = {means['robust'] / means['l2']:.2f}; "
          f"{time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()

"""The noise each pixel's normal carries, so that a departure from the card's smooth shape is judged
against what noise alone would do there.

Photometric stereo divides each pixel's shading by its brightness, so the sensor's noise turns into
noise on the normal that grows as the signal shrinks: ten times on dark ink that reflects a tenth of
what white stock does, and by sqrt(N / k) where the robust solver kept only k of the N lights. The
noise of a pixel (radians, standard deviation per tangent axis) is therefore taken as

    sigma = sqrt((scale / (albedo * sqrt(k / N)))^2 + (misfit / albedo)^2 + floor^2)

- `scale` is measured on the card: the median over the card of deviation x albedo x sqrt(k / N), over
  the median of a Rayleigh variable (the length of a 2-D Gaussian error), which ignores the defects as
  long as they cover less than half the card; or, where larger, what the pixel's own neighbourhood
  shows (`local_scale`: how its normals scatter, which smooth relief does not make them do);
- `misfit` is the part of the solver's photometric residual that noise does not explain (a highlight
  the l2 fit absorbed, a shadow's edge): where Lambert's model does not hold, the normal is trusted less;
- `floor` is what a capture cannot resolve however clean (light calibration, a paper's sheen).
"""

from __future__ import annotations

import cv2
import numpy as np

RAYLEIGH_MEDIAN = float(np.sqrt(2.0 * np.log(2.0)))  # median length of a 2-D error with unit sd per axis
DARKEST = 1e-3  # an albedo below this carries no signal: its normal is noise


def sample(values: np.ndarray, most: int = 250_000) -> np.ndarray:
    """Every k-th of `values` (flat), at most `most` of them: a median needs no more."""
    flat = values.ravel()
    return flat[::max(1, flat.size // most)]


def noise_scale(deviation: np.ndarray, inner: np.ndarray, relative: np.ndarray) -> float:
    """The card's noise per unit of `relative` noise (radians): the median of deviation / relative over
    the card, as a Rayleigh median."""
    ratio = sample(deviation[inner] / relative[inner])
    return float(np.median(ratio)) / RAYLEIGH_MEDIAN if ratio.size else 0.0


def local_scale(normals: np.ndarray, relative: np.ndarray, tile: int = 16) -> np.ndarray:
    """The noise scale each neighbourhood shows: how its normals' tilts, each divided by its pixel's
    `relative` noise, scatter about their 3 x 3 mean. The median scatter over tiles `tile` px wide, as
    the Rayleigh median of white noise after that high-pass, spread smoothly between tile centres.
    Smooth relief does not scatter, and a scratch fills too little of a tile to move its median; off
    the card the tiles show nothing, and the card's own scale stands."""
    weighted = np.ascontiguousarray(normals[..., :2] / relative[..., None], np.float32)
    high = weighted - cv2.blur(weighted, (3, 3))
    scatter = cv2.magnitude(np.ascontiguousarray(high[..., 0]), np.ascontiguousarray(high[..., 1]))
    h, w = scatter.shape
    ph, pw = -(-h // tile) * tile, -(-w // tile) * tile
    padded = np.zeros((ph, pw), np.float32)
    padded[:h, :w] = scatter
    tiles = padded.reshape(ph // tile, tile, pw // tile, tile).transpose(0, 2, 1, 3).reshape(ph // tile, pw // tile, -1)
    medians = np.median(tiles, axis=2).astype(np.float32)
    spread = cv2.resize(medians, (pw, ph), interpolation=cv2.INTER_LINEAR)[:h, :w]
    return spread / (RAYLEIGH_MEDIAN * np.sqrt(8.0 / 9.0))


def excess_misfit(residual: np.ndarray, inner: np.ndarray, used: np.ndarray | None, least: int = 1000) -> np.ndarray:
    """The residual beyond what noise leaves (image units): less three times the median residual of
    the card's pixels that kept as many lights (noise leaves sigma sqrt((k - 3) / k) with k lights),
    or of the whole card where fewer than `least` pixels did."""
    overall = float(np.median(sample(residual[inner])))
    if used is None:
        return np.maximum(residual - 3.0 * overall, 0.0)
    group = np.rint(used * 1000).astype(np.int32)
    typical = np.full(1001, overall, np.float32)
    counts = np.bincount(group[inner], minlength=1001)
    for share in np.flatnonzero(counts >= least):
        typical[share] = np.median(sample(residual[inner & (group == share)]))
    return np.maximum(residual - 3.0 * typical[group], 0.0)


def pixel_noise(deviation: np.ndarray, normals: np.ndarray, inner: np.ndarray, albedo: np.ndarray | None,
                used: np.ndarray | None, residual: np.ndarray | None, floor: float) -> np.ndarray:
    """Sigma per pixel, in radians, for `deviation` in radians (see the module docstring)."""
    signal = np.ones(deviation.shape, np.float32) if albedo is None else np.maximum(albedo, DARKEST)
    share = np.ones(deviation.shape, np.float32) if used is None else np.clip(used, 1e-3, 1.0)
    relative = 1.0 / (signal * np.sqrt(share))
    scale = np.maximum(noise_scale(deviation, inner, relative), local_scale(normals, relative))
    variance = (scale * relative) ** 2 + floor ** 2
    if residual is not None and albedo is not None:
        variance = variance + (excess_misfit(residual, inner, used) / signal) ** 2
    return np.sqrt(variance).astype(np.float32)

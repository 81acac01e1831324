"""The `robust` solver: a Lambertian fit per pixel that leaves out shadowed and specular measurements.

With dozens of lights most measurements of a pixel are usable; the few that are not are shadows
(darker than the fit: attached where the light is behind the surface, cast where another part of the
object blocks it) and highlights (brighter than the fit, near the direction that mirrors the camera).
Each pixel starts from the plain least-squares fit, then a few rounds refit on the lights the current
normal says are usable:

- in front of the surface and not grazing (n . l above a floor, where real surfaces stop being
  Lambertian and shadows begin),
- away from the mirror direction of the view, where glossy lobes sit, when the lights there are
  brighter than the fit (a matte pixel keeps them),
- within a band around the fit: much darker means a cast shadow, much brighter a highlight.

This is the outlier-rejection family evaluated on DiLiGenT (Wu et al. 2010; Ikehata et al. 2012,
2014), done with hard, geometry-aware weights so that it vectorises over pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cardgrader.photometric.solvers import PhotometricResult, Progress

# Pixels x lights per block: about 100k values stay in cache across the rounds, and with few lights a
# block still holds enough pixels that numpy's per-call cost does not dominate.
BLOCK_VALUES = 98304


@dataclass(frozen=True)
class RobustSettings:
    grazing: float = 0.15  # lights with n . l below this are not used
    mirror_deg: float = 25.0  # lights within this angle of the mirror direction are not used ...
    gloss_excess: float = 0.05  # ... where they are brighter than the fit by this share (a glossy lobe)
    shadow_ratio: float = 0.6  # darker than this share of the fit: cast shadow
    highlight_ratio: float = 1.25  # brighter than this share of the fit: highlight
    rounds: int = 2
    min_lights: int = 3  # a pixel keeps at least this many lights (3 fix a normal: card rigs have few)


def _pairs(d: np.ndarray) -> np.ndarray:
    """(N, 6) products l_i l_j for the six distinct entries of the 3x3 normal matrix."""
    x, y, z = d.T
    return np.stack([x * x, y * y, z * z, x * y, x * z, y * z], axis=1)


def _weighted_fit(x: np.ndarray, w: np.ndarray, d: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Per-pixel weighted least squares b = argmin sum_j w_j (l_j . b - x_j)^2; (B, 3)."""
    g = w @ pairs  # (B, 6): xx, yy, zz, xy, xz, yz
    rhs = (w * x) @ d  # (B, 3)
    a, e, f, b, c, dd = g.T  # a=xx e=yy f=zz b=xy c=xz dd=yz
    # Adjugate of the symmetric matrix [[a, b, c], [b, e, dd], [c, dd, f]].
    c00 = e * f - dd * dd
    c01 = c * dd - b * f
    c02 = b * dd - c * e
    c11 = a * f - c * c
    c12 = b * c - a * dd
    c22 = a * e - b * b
    det = a * c00 + b * c01 + c * c02
    ok = np.abs(det) > 1e-9 * np.maximum(a + e + f, 1e-12) ** 3
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    r0, r1, r2 = rhs.T
    out = np.empty_like(rhs)
    out[:, 0] = (c00 * r0 + c01 * r1 + c02 * r2) * inv
    out[:, 1] = (c01 * r0 + c11 * r1 + c12 * r2) * inv
    out[:, 2] = (c02 * r0 + c12 * r1 + c22 * r2) * inv
    return out


def _usable(x: np.ndarray, b: np.ndarray, d: np.ndarray, s: RobustSettings) -> tuple[np.ndarray, np.ndarray]:
    """(lights usable by the band and grazing rules, lights in the mirror cone), both (B, N) bool."""
    rho = np.sqrt(np.einsum("ij,ij->i", b, b))[:, None]
    normal = b / np.maximum(rho, 1e-12)
    nl = normal @ d.T  # (B, N): n . l
    fit = nl * rho
    keep = nl > s.grazing
    keep &= x > fit * np.float32(s.shadow_ratio)
    keep &= x < fit * np.float32(s.highlight_ratio)
    # The mirror direction of the view (0, 0, 1) about n is r = 2 n_z n - v, so r . l = 2 n_z (n . l) - l_z.
    cone = nl * (2.0 * normal[:, 2:3]) >= np.float32(np.cos(np.radians(s.mirror_deg))) + d[:, 2]
    return keep, cone


def _glossy(x: np.ndarray, b_outside: np.ndarray, cone: np.ndarray, d: np.ndarray, s: RobustSettings) -> np.ndarray:
    """Pixels whose mirror-cone lights are brighter than the fit from the other lights predicts.

    On a matte pixel the cone's lights are as good as any, and dropping them would leave only oblique
    ones, where matte falloff departs from Lambert's cosine most; so only glossy pixels lose them."""
    fit = np.clip(b_outside @ d.T, 0.0, None)
    excess = np.where(cone, x - fit, 0.0).sum(axis=1)
    return excess > s.gloss_excess * np.maximum(np.where(cone, fit, 0.0).sum(axis=1), 1e-12)


def _solve_block(x: np.ndarray, d: np.ndarray, pairs: np.ndarray, pinv: np.ndarray, s: RobustSettings
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w = np.ones_like(x)
    b = x @ pinv  # the plain least-squares fit is close enough to tell shadows and highlights apart
    glossy = None
    for _ in range(s.rounds):
        keep, cone = _usable(x, b, d, s)
        if glossy is None:  # decided once, against a fit that has not seen the cone
            outside = (keep & ~cone).astype(np.float32)
            enough = outside.sum(axis=1) >= s.min_lights
            glossy = enough & _glossy(x, _weighted_fit(x, np.where(enough[:, None], outside, w), d, pairs), cone, d, s)
        w_new = (keep & ~(cone & glossy[:, None])).astype(np.float32)
        enough = w_new.sum(axis=1) >= s.min_lights
        w_new = np.where(enough[:, None], w_new, w)
        b_new = _weighted_fit(x, w_new, d, pairs)
        # Lights left in one plane cannot fix a normal (the fit comes back empty): keep the last round's.
        solved = np.any(b_new != 0, axis=1)[:, None]
        w, b = np.where(solved, w_new, w), np.where(solved, b_new, b)
    resid = x - b @ d.T
    used = w.sum(axis=1)
    rms = np.sqrt((w * resid * resid).sum(axis=1) / np.maximum(used, 1))
    return b, rms, used / x.shape[1]


def solve_robust(images: np.ndarray, d: np.ndarray, gain: np.ndarray, mask: np.ndarray | None,
                 report: Progress, settings: RobustSettings | None = None) -> PhotometricResult:
    s = settings or RobustSettings()
    n, h, w = images.shape
    if mask is None:
        mask = np.ones((h, w), bool)
    index = np.flatnonzero(mask.ravel())
    flat = images.reshape(n, h * w)
    d32 = d.astype(np.float32)
    pairs = _pairs(d).astype(np.float32)
    pinv = np.linalg.pinv(d).T.astype(np.float32)
    g32 = None if np.all(gain == 1.0) else gain.astype(np.float32)
    fits = np.empty((index.size, 3), np.float32)  # b = albedo * normal, per solved pixel
    rms = np.empty(index.size, np.float32)
    share = np.empty(index.size, np.float32)
    block = max(256, BLOCK_VALUES // n)
    for k, start in enumerate(range(0, index.size, block)):
        stop = min(index.size, start + block)
        x = np.ascontiguousarray(flat[:, index[start:stop]].T)  # (B, N): one pixel's lights per row
        if g32 is not None:
            x *= g32
        fits[start:stop], rms[start:stop], share[start:stop] = _solve_block(x, d32, pairs, pinv, s)
        if k % 16 == 15:
            report(stop / index.size, "solving normals (robust)")
    rho = np.sqrt(np.einsum("ij,ij->i", fits, fits))
    normals = np.zeros((h * w, 3), np.float32)
    normals[index] = fits / np.maximum(rho, 1e-20)[:, None]
    planes = []
    for values in (rho, rms, share):
        plane = np.zeros(h * w, np.float32)
        plane[index] = values
        planes.append(plane.reshape(h, w))
    return PhotometricResult(normals.reshape(h, w, 3), planes[0], planes[1], mask, "robust", planes[2])

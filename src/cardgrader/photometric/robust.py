"""The `robust` solver: a Lambertian fit per pixel that leaves out shadowed and specular measurements.

With dozens of lights most measurements of a pixel are usable; the few that are not are shadows
(darker than the fit: attached where the light is behind the surface, cast where another part of the
object blocks it) and highlights (brighter than the fit, near the direction that mirrors the camera).
Each pixel starts from the plain least-squares fit, then a few rounds refit on the lights the current
normal says are usable:

- in front of the surface and not grazing (n . l above a floor, where real surfaces stop being
  Lambertian and shadows begin),
- away from the mirror direction of the view, where glossy lobes sit,
- within a band around the fit: much darker means a cast shadow, much brighter a highlight.

This is the outlier-rejection family evaluated on DiLiGenT (Wu et al. 2010; Ikehata et al. 2012,
2014), done with hard, geometry-aware weights so that it vectorises over pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cardgrader.photometric.solvers import ROBUST_BLOCK, PhotometricResult, Progress


@dataclass(frozen=True)
class RobustSettings:
    grazing: float = 0.15  # lights with n . l below this are not used
    mirror_deg: float = 30.0  # lights within this angle of the mirror direction are not used
    shadow_ratio: float = 0.6  # darker than this share of the fit: cast shadow
    highlight_ratio: float = 1.25  # brighter than this share of the fit: highlight
    rounds: int = 3
    min_lights: int = 6


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


def _refine_weights(x: np.ndarray, b: np.ndarray, d: np.ndarray, s: RobustSettings) -> np.ndarray:
    rho = np.sqrt(np.einsum("ij,ij->i", b, b))[:, None]
    normal = b / np.maximum(rho, 1e-12)
    nl = normal @ d.T  # (B, N): n . l
    keep = nl > s.grazing
    # The mirror direction of the view (0, 0, 1) about n is r = 2 n_z n - v, so r . l = 2 n_z (n . l) - l_z.
    keep &= nl * (2.0 * normal[:, 2:3]) < np.float32(np.cos(np.radians(s.mirror_deg))) + d[:, 2]
    fit = nl * rho
    keep &= x > fit * np.float32(s.shadow_ratio)
    keep &= x < fit * np.float32(s.highlight_ratio)
    return keep.astype(np.float32)


def _solve_block(x: np.ndarray, d: np.ndarray, pairs: np.ndarray, pinv: np.ndarray, s: RobustSettings
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w = np.ones_like(x)
    b = x @ pinv  # the plain least-squares fit is close enough to tell shadows and highlights apart
    for _ in range(s.rounds):
        w_new = _refine_weights(x, b, d, s)
        enough = w_new.sum(axis=1) >= s.min_lights
        w = np.where(enough[:, None], w_new, w)
        b = _weighted_fit(x, w, d, pairs)
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
    g32 = gain.astype(np.float32)
    normals = np.zeros((h * w, 3), np.float32)
    albedo = np.zeros(h * w, np.float32)
    residual = np.zeros(h * w, np.float32)
    used = np.zeros(h * w, np.float32)
    for start in range(0, index.size, ROBUST_BLOCK):
        pix = index[start:start + ROBUST_BLOCK]
        x = np.ascontiguousarray(flat[:, pix].T) * g32  # (B, N)
        b, rms, share = _solve_block(x, d32, pairs, pinv, s)
        rho = np.linalg.norm(b, axis=1)
        normals[pix] = b / np.maximum(rho, 1e-20)[:, None]
        albedo[pix] = rho
        residual[pix] = rms
        used[pix] = share
        report(min(1.0, (start + pix.size) / max(index.size, 1)), "solving normals (robust)")
    return PhotometricResult(normals.reshape(h, w, 3), albedo.reshape(h, w), residual.reshape(h, w), mask, "robust",
                             used.reshape(h, w))

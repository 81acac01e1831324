"""Depth from normals, and a shaded rendering of them.

Depth is the least-squares surface whose slopes best match the normals, solved as a Poisson equation
with Neumann (free) borders by the discrete cosine transform (Simchony, Chellappa & Shao 1990). This is
Frankot-Chellappa without its assumption that the surface repeats periodically, so a card's edges do
not bend toward each other. Units are pixels: depth is in the same units as the image grid.
"""

from __future__ import annotations

import cv2
import numpy as np

RAKING_LIGHT = np.array([-0.6, 0.6, 0.53])  # from the top left, about 32 degrees above the card


def slopes(normals: np.ndarray, mask: np.ndarray | None = None, max_slope: float = 20.0) -> tuple[np.ndarray, np.ndarray]:
    """dz/dcolumn and dz/drow (rows go down, y goes up) from unit normals; flat outside the mask."""
    nx, ny, nz = (normals[..., i].astype(np.float64) for i in range(3))
    nz = np.where(nz > 1.0 / max_slope, nz, 1.0 / max_slope)  # near-vertical normals would blow up
    p = np.clip(-nx / nz, -max_slope, max_slope)
    q = np.clip(ny / nz, -max_slope, max_slope)
    if mask is not None:
        p[~mask] = 0.0
        q[~mask] = 0.0
    return p, q


def _extend(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Give each unknown pixel the value of the nearest known one, so the integration sees no false
    cliff where the card ends (the continuation only has to be plausible, it is cut away after)."""
    _dist, labels = cv2.distanceTransformWithLabels((~known).astype(np.uint8), cv2.DIST_L2, 3,
                                                    labelType=cv2.DIST_LABEL_PIXEL)
    lut = np.zeros(int(labels.max()) + 1)
    lut[labels[known]] = values[known]
    return lut[labels]


def integrate(normals: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Depth (H, W) float32 in pixels toward the camera, zero mean over the mask (0 outside it)."""
    h, w = normals.shape[:2]
    p, q = slopes(normals, mask)
    # cv2.dct wants even sizes: grow odd ones by a row or column, filled like the outside of the mask.
    ph, pw = h + (h % 2), w + (w % 2)
    known = np.zeros((ph, pw), bool)
    known[:h, :w] = True if mask is None else mask
    pp, qq = np.zeros((ph, pw)), np.zeros((ph, pw))
    pp[:h, :w], qq[:h, :w] = p, q
    if not known.all():
        pp, qq = _extend(pp, known), _extend(qq, known)
    # Slopes on the edges between neighbours; the normal equations read lap(z) = div, where a border
    # pixel's Laplacian lacks the neighbour beyond the border: the cosine transform diagonalises that.
    pe = 0.5 * (pp[:, :-1] + pp[:, 1:])
    qe = 0.5 * (qq[:-1, :] + qq[1:, :])
    div = np.zeros((ph, pw))
    div[:, :-1] += pe
    div[:, 1:] -= pe
    div[:-1, :] += qe
    div[1:, :] -= qe
    coeffs = cv2.dct(div)
    ky = 2.0 * np.cos(np.pi * np.arange(ph) / ph) - 2.0
    kx = 2.0 * np.cos(np.pi * np.arange(pw) / pw) - 2.0
    denom = ky[:, None] + kx[None, :]
    denom[0, 0] = 1.0
    coeffs = coeffs / denom
    coeffs[0, 0] = 0.0
    z = cv2.idct(coeffs)[:h, :w]
    if mask is not None:
        z -= z[mask].mean()
        z[~mask] = 0.0
    else:
        z -= z.mean()
    return z.astype(np.float32)


def shaded(normals: np.ndarray, light: np.ndarray = RAKING_LIGHT) -> np.ndarray:
    """A gray rendering (H, W) uint8 of the normals under one raking light, uniform albedo."""
    l = np.asarray(light, np.float64)
    l = l / np.linalg.norm(l)
    value = np.clip(normals.astype(np.float32) @ l.astype(np.float32), 0.0, 1.0)
    return (value * 255.0 + 0.5).astype(np.uint8)

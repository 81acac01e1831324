"""Depth from normals, and a shaded rendering of them.

Depth is the least-squares surface whose slopes best match the normals, solved as a Poisson equation
with Neumann (free) borders by the discrete cosine transform (Simchony, Chellappa & Shao 1990). This is
Frankot-Chellappa without its assumption that the surface repeats periodically, so a card's edges do
not bend toward each other. Units are pixels: depth is in the same units as the image grid.
"""

from __future__ import annotations

import cv2
import numpy as np

TRANSFORM_ROWS = 128  # rows per band of the cosine transforms and the spectral division (in cache)
SLOPE_ROWS = 32  # rows per band of slopes worked out on the way to the divergence (in cache, one thread)
SHADE_ROWS = 64  # rows per band of the shaded rendering
RAKING_LIGHT = np.array([-0.6, 0.6, 0.53])  # from the top left, about 32 degrees above the card
_PICK = np.eye(3, dtype=np.float32)[:, None, :]  # _PICK[c]: the (1, 3) transform that takes channel c


def slopes(normals: np.ndarray, mask: np.ndarray | None = None, max_slope: float = 20.0) -> tuple[np.ndarray, np.ndarray]:
    """dz/dcolumn and dz/drow (rows go down, y goes up) from unit normals, float32; flat outside the mask.
    n_z is held above 1 / max_slope (near-vertical normals would blow up), so with |n_x|, |n_y| <= 1 no
    slope exceeds max_slope."""
    p, q, _spare = _slopes(normals, mask, max_slope)
    return p, q


def _slopes(normals: np.ndarray, mask: np.ndarray | None, max_slope: float = 20.0,
            out: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, ...]:
    """`slopes`, and a spare (H, W) float32 array they were worked out in (its values mean nothing).
    Each step writes into an array it already has: a fresh card-size array costs more than the arithmetic.
    `out`: (p, q, spare) arrays of the normals' height and width to work in instead of new ones."""
    normals = np.asarray(normals, np.float32)
    bp, bq, bz = (None, None, None) if out is None else out
    nz = cv2.transform(normals, _PICK[2], dst=bz)  # one channel out of three in one pass (numpy strides slowly)
    cv2.max(nz, 1.0 / max_slope, dst=nz)
    p = cv2.transform(normals, _PICK[0], dst=bp)
    cv2.divide(p, nz, dst=p, scale=-1.0)
    q = cv2.transform(normals, _PICK[1], dst=bq)
    cv2.divide(q, nz, dst=q)
    if mask is not None:
        outside = ~np.asarray(mask, bool)
        p[outside] = 0.0
        q[outside] = 0.0
    return p, q, nz


def _extend(values: list[np.ndarray], known: np.ndarray) -> list[np.ndarray]:
    """Give each unknown pixel the values of the nearest known one, so the integration sees no false
    cliff where the card ends (the continuation only has to be plausible, it is cut away after)."""
    _dist, labels = cv2.distanceTransformWithLabels((~known).astype(np.uint8), cv2.DIST_L2, 3,
                                                    labelType=cv2.DIST_LABEL_PIXEL)
    order = labels[known]  # each known pixel's own label, in raster order
    extended = []
    for v in values:
        lut = np.zeros(int(order.max()) + 1, np.float32)
        lut[order] = v[known]
        extended.append(np.take(lut, labels))
    return extended


def _divergence(p: np.ndarray, q: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Twice the divergence of the slopes taken on the edges between neighbours: the right-hand side
    of the normal equations lap(z) = div, where a border pixel's Laplacian lacks the neighbour beyond
    the border (the Neumann condition that the cosine transform diagonalises)."""
    div = np.empty_like(p) if out is None else out
    np.subtract(p[:, 2:], p[:, :-2], out=div[:, 1:-1])
    div[:, 0] = p[:, 0] + p[:, 1]
    div[:, -1] = -(p[:, -2] + p[:, -1])
    inner = div[1:-1]
    np.add(inner, q[2:], out=inner)  # two passes in place rather than a card-size temporary
    np.subtract(inner, q[:-2], out=inner)
    div[0] += q[0] + q[1]
    div[-1] -= q[-2] + q[-1]
    return div


def _banded_divergence(normals: np.ndarray, max_slope: float = 20.0) -> np.ndarray:
    """`_divergence` of `slopes(normals)` (no mask), with the slopes worked out a band of rows at a time in
    small buffers: one card-size array instead of three, and the same arithmetic, so the same numbers.
    A band's row sums need the q of the rows either side, so each band's slopes take a row of margin."""
    h, w = normals.shape[:2]
    div = np.empty((h, w), np.float32)
    nz, p, q = (np.empty((SLOPE_ROWS + 2, w), np.float32) for _ in range(3))
    for top in range(0, h, SLOPE_ROWS):
        end = min(h, top + SLOPE_ROWS)
        lo, hi = max(0, top - 1), min(h, end + 1)  # the band with its margin: rows lo..hi-1 in the buffers
        bp, bq, _bz = _slopes(normals[lo:hi], None, max_slope, out=(p[:hi - lo], q[:hi - lo], nz[:hi - lo]))
        rows, own = div[top:end], bp[top - lo:end - lo]
        np.subtract(own[:, 2:], own[:, :-2], out=rows[:, 1:-1])
        rows[:, 0] = own[:, 0] + own[:, 1]
        rows[:, -1] = -(own[:, -2] + own[:, -1])
        first, last = max(top, 1), min(end, h - 1)  # the rows with a neighbour above and below
        if last > first:
            inner = div[first:last]
            np.add(inner, bq[first + 1 - lo:last + 1 - lo], out=inner)
            np.subtract(inner, bq[first - 1 - lo:last - 1 - lo], out=inner)
        if top == 0:
            div[0] += bq[0] + bq[1]
        if end == h:
            div[-1] -= bq[h - 2 - lo] + bq[h - 1 - lo]
    return div


def _eigenvalues(n: int) -> np.ndarray:
    """The eigenvalues along one axis of n pixels of the Neumann Laplacian the cosine transform
    diagonalises, x2 (see `_divergence`): the 2-D one at (i, j) is the sum of an axis's i-th and the
    other's j-th, and 0 only at (0, 0)."""
    return 4.0 * np.cos(np.pi * np.arange(n) / n) - 4.0


def _transform_rows(values: np.ndarray, first: int, eigen: tuple[np.ndarray, np.ndarray] | None = None,
                    then: int | None = None) -> None:
    """cv2.dct with flags `first` on each row of `values` (float32, in place), then, where given, a division
    by the eigenvalues kx[row] + ky[column] of `eigen` (kx, ky), whose constant term [0, 0] is set to 0,
    and a second transform with flags `then`. A band of rows at a time in float64: OpenCV's cosine
    transform of doubles is about twice as fast as of floats at sizes such as 2000 and 2800 (and
    exact to float64), and the band stays in cache from one step to the next."""
    h, w = values.shape
    buffer = np.empty((min(h, TRANSFORM_ROWS), w), np.float64)
    divisor = None if eigen is None else np.empty_like(buffer)
    for top in range(0, h, TRANSFORM_ROWS):
        rows = values[top:top + TRANSFORM_ROWS]
        band = buffer[:rows.shape[0]]
        np.copyto(band, rows)
        cv2.dct(band, band, flags=first)
        if divisor is not None:
            kx, ky = eigen
            by = np.add(kx[top:top + band.shape[0], None], ky[None, :], out=divisor[:band.shape[0]])
            if top == 0:
                by[0, 0] = 1.0  # depth is known up to a constant: its coefficient is set to 0
                band[0, 0] = 0.0
            band /= by
        if then is not None:
            cv2.dct(band, band, flags=then)
        np.copyto(rows, band, casting="same_kind")


def integrate(normals: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Depth (H, W) float32 in pixels toward the camera, zero mean over the mask (0 outside it)."""
    h, w = normals.shape[:2]
    # cv2.dct wants even sizes: grow odd ones by a row or column, filled like the outside of the mask.
    ph, pw = h + (h % 2), w + (w % 2)
    if (ph, pw) == (h, w) and mask is None:
        coeffs = _banded_divergence(np.asarray(normals, np.float32))
        p = np.empty_like(coeffs)  # where the transposes go
    else:
        p, q, spare = _slopes(normals, mask)
        known = np.zeros((ph, pw), bool)
        known[:h, :w] = True if mask is None else mask
        pp, qq = np.zeros((ph, pw), np.float32), np.zeros((ph, pw), np.float32)
        pp[:h, :w], qq[:h, :w] = p, q
        if not known.all():
            pp, qq = _extend([pp, qq], known)
        p, q = pp, qq
        coeffs = _divergence(p, q, out=spare if spare.shape == p.shape else None)
    # The 2-D cosine transform one axis at a time, the second on the transpose: cv2.dct's own 2-D
    # transform takes the columns slowly. The spectrum stays transposed (rows: the x frequency) until the
    # inverse row transform has undone the second, so that the second transform, the division by the
    # eigenvalues and that inverse are one pass over each band of rows. Each transpose goes into a buffer
    # already there: fresh memory costs more than the copy.
    _transform_rows(coeffs, cv2.DCT_ROWS)
    spectrum = cv2.transpose(coeffs, dst=p.reshape(pw, ph))
    _transform_rows(spectrum, cv2.DCT_ROWS, (_eigenvalues(pw), _eigenvalues(ph)), cv2.DCT_ROWS | cv2.DCT_INVERSE)
    z = cv2.transpose(spectrum, dst=coeffs)
    del spectrum, p
    _transform_rows(z, cv2.DCT_ROWS | cv2.DCT_INVERSE)
    if (ph, pw) != (h, w):
        z = np.ascontiguousarray(z[:h, :w])
    if mask is not None:
        card = np.asarray(mask, np.uint8)
        z -= np.float32(cv2.mean(z, card)[0])
        z[card == 0] = 0.0
    else:
        z -= np.float32(z.mean(dtype=np.float64))
    return z


def shaded(normals: np.ndarray, light: np.ndarray = RAKING_LIGHT) -> np.ndarray:
    """A gray rendering (H, W) uint8 of the normals under one raking light, uniform albedo."""
    l = np.asarray(light, np.float64)
    l = (255.0 * l / np.linalg.norm(l)).astype(np.float32).reshape(1, 3)
    normals = np.ascontiguousarray(normals, np.float32)
    h, w = normals.shape[:2]
    out = np.empty((h, w), np.uint8)
    value = np.empty((min(h, SHADE_ROWS), w), np.float32)  # a band at a time: no card-size float array
    for top in range(0, h, SHADE_ROWS):
        band = value[:min(h, top + SHADE_ROWS) - top]
        cv2.transform(normals[top:top + SHADE_ROWS], l, dst=band)  # 255 n . l, one pass
        cv2.convertScaleAbs(cv2.max(band, 0.0, dst=band), dst=out[top:top + SHADE_ROWS])  # rounded, saturated at 255
    return out

"""The `robust` solver: a Lambertian fit per pixel that leaves out shadowed and specular measurements.

Shadows (darker than the fit: attached where the light is behind the surface, cast where another part
of the object blocks it) and highlights (brighter, near the direction that mirrors the camera) are
outliers of a Lambertian fit. Each pixel's b = albedo x normal is an M-estimate: the weighted least
squares fit whose weights follow from its own residuals r_j = x_j - l_j . b, by iterated reweighting:

- lights with n . l below `grazing` are not used: attached shadow, and the grazing range where real
  surfaces depart from Lambert's cosine most;
- on a glossy pixel (the lights near the mirror direction are brighter than the other lights'
  fit predicts) those lights are not used either: a glossy lobe can cover half of a small rig's
  lights, too many for any residual rule to see past;
- the other lights get Hampel's redescending weight of r_j / s: 1 within `core` x s, falling to 0 at
  `cutoff` x s, so a shadow or a highlight, however strong, ends with no weight. The scale s is the
  median |r_j| of the pixel's usable lights, never below `noise_floor` times the capture's own noise
  (`capture_noise`, measured on the residual images), so that noise alone is not taken for an outlier.

The start is the least-squares fit on each pixel's middle values (its darkest and brightest `trim`
left out). A pixel whose plain least-squares fit already explains every light within its scale is a
fixed point of the iteration and keeps that fit; the iteration runs on the others, each until its fit
moves less than `tolerance` of its albedo, so the cost follows how much a capture has to leave out.

This is the outlier-rejection family evaluated on DiLiGenT (Wu et al. 2010; Ikehata et al. 2012, 2014),
with weights that vectorise over pixels: the work is done on (lights, pixels) planes in blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from cardgrader.photometric.blocks import (
    PhotometricResult,
    Progress,
    light_dot,
    plane_block,
    run_blocks,
    store_fits,
)

# Lights x pixels per block: enough that numpy's cost per call is small beside the work, few enough to
# bound the temporaries (measured on 8 x 2000 x 2800: 65536 values 1.79 s, 262144 1.51 s, 524288 1.49 s;
# after the solver's later speed-ups, medians of 5: 262144 377-403 ms, 524288 338-348 ms, 1048576
# 351-354 ms). Blocks of another size round a few pixels' last bit differently (BLAS), nothing more.
BLOCK_VALUES = 524288
NOISE_SAMPLE = 1 << 21  # lights x pixels read to measure the capture's noise
NETWORK_MAX = 16  # up to this many lights a sorting network on whole planes beats numpy's sort


@dataclass(frozen=True)
class RobustSettings:
    grazing: float = 0.15  # lights with n . l below this are not used
    mirror_deg: float = 25.0  # lights within this angle of the mirror direction are not used ...
    gloss_excess: float = 0.05  # ... where they are brighter than the fit by this share (a glossy lobe)
    trim: float = 0.2  # the start leaves out this share of each pixel's darkest values and of its brightest
    core: float = 1.0  # residuals within core x scale keep their whole weight, ...
    cutoff: float = 2.0  # ... residuals beyond cutoff x scale none
    noise_floor: float = 2.0  # the scale is never below this many times the capture's noise
    rounds: int = 8
    tolerance: float = 1e-3  # a pixel is done when its fit moves less than this share of its albedo
    min_lights: int = 3  # a fit needs at least this many lights with weight (3 fix a normal)


def _network(count: int) -> list[tuple[int, int]]:
    """Batcher's odd-even merge sort for `count` elements: the compare-exchange pairs, in order."""
    pairs = []
    p = 1
    while p < count:
        k = p
        while k >= 1:
            for j in range(k % p, count - k, 2 * k):
                for i in range(min(k, count - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return pairs


def sort_rows(values: np.ndarray) -> np.ndarray:
    """`values` (N, B) sorted along N: with few rows as a sorting network over whole rows (each step
    one SIMD pass), else numpy's sort."""
    if len(values) > NETWORK_MAX:
        return np.sort(values, axis=0)
    rows = values.copy()
    for i, j in _network(len(rows)):
        low = np.minimum(rows[i], rows[j])
        np.maximum(rows[i], rows[j], out=rows[j])
        rows[i] = low
    return rows


def _median_of(values: np.ndarray, usable: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Per column, the median of `values` over the rows that are `usable` (`count` of them, >= 1)."""
    ordered = sort_rows(np.where(usable, values, np.float32(np.inf)))
    low = np.take_along_axis(ordered, ((count - 1) // 2)[None], axis=0)[0]
    high = np.take_along_axis(ordered, (count // 2)[None], axis=0)[0]
    return 0.5 * (low + high)


class LightGeometry:
    """What every block needs of the lights: directions, pseudo-inverse, products for the normal matrix."""

    def __init__(self, d: np.ndarray):
        self.d = d.astype(np.float32)  # (N, 3)
        self.dt = np.ascontiguousarray(self.d.T)  # (3, N)
        self.pinv = np.linalg.pinv(d).astype(np.float32)  # (3, N)
        x, y, z = d.T
        self.pairs_t = np.stack([x * x, y * y, z * z, x * y, x * z, y * z]).astype(np.float32)  # (6, N)
        self.view_z = self.d[:, 2:3]  # l_z per light, (N, 1)


def _rows(images: np.ndarray | list[np.ndarray], rows: np.ndarray) -> np.ndarray:
    """Rows `rows` of every image, (N, len(rows), W) float32, from a stack or a list of planes."""
    if isinstance(images, np.ndarray):
        return np.asarray(images[:, rows], np.float32)
    return np.stack([np.asarray(plane[rows], np.float32) for plane in images])


def capture_noise(images: np.ndarray | list[np.ndarray], geo: LightGeometry, gain: np.ndarray,
                  mask: np.ndarray | None) -> float:
    """The capture's noise, one standard deviation in the units of the normalised images, measured on the
    least-squares residual images with Immerkaer's (1996) estimator: pixel by pixel the albedo cancels, so
    the print leaves no trace; the 3 x 3 second difference cancels misfit that varies smoothly (gloss,
    falloff); the median of its magnitude is not moved by the sparse edges of shadows and highlights.
    Sampled on rows spread over the image, pooled over the lights. `images`: an (N, H, W) stack, or a list
    of N (H, W) planes of any numeric type (`gain` scales them)."""
    n, (h, w) = len(images), images[0].shape
    if h < 3 or w < 3:
        return 0.0
    centre = np.arange(1, h - 1, max(1, -(-(h - 2) * n * w // NOISE_SAMPLE)))
    gains = np.asarray(gain, np.float32)[:, None]
    residual = []
    for offset in (-1, 0, 1):
        x = _rows(images, centre + offset).reshape(n, -1) * gains
        residual.append((x - light_dot(geo.d, light_dot(geo.pinv, x))).reshape(n, len(centre), w))
    rows = residual[0] - 2.0 * residual[1] + residual[2]
    second = np.abs(rows[:, :, :-2] - 2.0 * rows[:, :, 1:-1] + rows[:, :, 2:])
    if mask is not None:
        inner = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)[centre, 1:-1]
        if not inner.any():
            return 0.0
        second = second[:, inner]
    median = np.median(second.reshape(n, -1), axis=1)
    # The filter's weights have a sum of squares of 36, 1.4826 x median |.| is a normal sigma, and the fit
    # absorbs its leverage h_jj of each light's noise: what is left of it has variance sigma^2 (1 - h_jj).
    leverage = np.einsum("jk,kj->j", geo.d, geo.pinv)
    sigma = 1.4826 * median / 6.0 / np.sqrt(np.maximum(1.0 - leverage, 1e-6))
    return float(np.sqrt(np.mean(np.square(sigma, dtype=np.float64))))


def _weighted_fit(x: np.ndarray, w: np.ndarray, geo: LightGeometry) -> np.ndarray:
    """Per column, b = argmin sum_j w_j (l_j . b - x_j)^2, (3, B); 0 where the lights fix no normal."""
    a, e, f, b, c, dd = light_dot(geo.pairs_t, w)  # the normal matrix [[a, b, c], [b, e, dd], [c, dd, f]]
    r0, r1, r2 = light_dot(geo.dt, w * x)
    c00, c01, c02 = e * f - dd * dd, c * dd - b * f, b * dd - c * e  # its adjugate
    c11, c12, c22 = a * f - c * c, b * c - a * dd, a * e - b * b
    det = a * c00 + b * c01 + c * c02
    ok = np.abs(det) > 1e-6 * np.maximum(a + e + f, 1e-12) ** 3
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0).astype(np.float32)
    return np.stack([(c00 * r0 + c01 * r1 + c02 * r2) * inv, (c01 * r0 + c11 * r1 + c12 * r2) * inv,
                     (c02 * r0 + c12 * r1 + c22 * r2) * inv])


def _albedo(b: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("kb,kb->b", b, b))


def _hampel(size: np.ndarray, scale: np.ndarray, s: RobustSettings) -> np.ndarray:
    """Hampel's weights of residuals of magnitude `size` (N, B) over their column's `scale` (B,)."""
    span = s.cutoff - s.core
    t = size * (1.0 / (span * scale))  # t = clip((|r| / scale - core) / span, 0, 1), then (1 - t^2)^2
    t -= np.float32(s.core / span)
    np.clip(t, 0.0, 1.0, out=t)
    t *= t
    np.subtract(1.0, t, out=t)
    t *= t
    return t


def _trimmed_start(x: np.ndarray, geo: LightGeometry, s: RobustSettings) -> np.ndarray:
    n = len(x)
    cut = int(s.trim * n)
    if cut == 0 or n - 2 * cut < s.min_lights:
        return light_dot(geo.pinv, x)
    ordered = sort_rows(x)
    w = ((x >= ordered[cut]) & (x <= ordered[n - 1 - cut])).astype(np.float32)
    b = _weighted_fit(x, w, geo)
    return np.where(b[2] > 0, b, light_dot(geo.pinv, x))


def _in_cone(normal: np.ndarray, nl: np.ndarray, geo: LightGeometry, s: RobustSettings) -> np.ndarray:
    # The mirror direction of the view (0, 0, 1) about n is m = 2 n_z n - v, so m . l = 2 n_z (n . l) - l_z.
    return nl * (2.0 * normal[2]) - geo.view_z >= np.float32(np.cos(np.radians(s.mirror_deg)))


def _lit(b: np.ndarray, geo: LightGeometry, s: RobustSettings) -> tuple[np.ndarray, ...]:
    """Albedo (B,), unit normals (3, B), n . l (N, B), and the lights in front of the surface (N, B)."""
    rho = np.maximum(_albedo(b), 1e-12)
    normal = b / rho
    nl = light_dot(geo.d, normal)
    return rho, normal, nl, nl > s.grazing


def _glossy(x: np.ndarray, b: np.ndarray, geo: LightGeometry, s: RobustSettings) -> np.ndarray:
    """Pixels whose mirror-cone lights are brighter than a fit from their other lights predicts.

    On a matte pixel the cone's lights are as good as any, and dropping them would leave only oblique
    ones, where matte falloff departs from Lambert's cosine most; so only glossy pixels lose them."""
    _rho, normal, nl, lit = _lit(b, geo, s)
    cone = _in_cone(normal, nl, geo, s)
    outside = lit & ~cone
    fit = np.maximum(light_dot(geo.d, _weighted_fit(x, outside.astype(np.float32), geo)), 0.0)
    excess = np.where(cone, x - fit, 0.0).sum(axis=0)
    enough = outside.sum(axis=0) >= s.min_lights
    return enough & (excess > s.gloss_excess * np.maximum(np.where(cone, fit, 0.0).sum(axis=0), 1e-12))


def _iterate(x: np.ndarray, noise: float, geo: LightGeometry, s: RobustSettings) -> tuple[np.ndarray, np.ndarray]:
    """IRLS for the columns of x (N, B): the fits (3, B) and the final weights (N, B)."""
    b = _trimmed_start(x, geo, s)
    w = np.ones_like(x)
    glossy = _glossy(x, b, geo, s)  # decided once, against the start
    active = np.arange(x.shape[1])  # the pixels still moving, and their values, fits and weights
    xa, ba, wa = x, b, w
    floor = np.float32(s.noise_floor * noise)
    for _ in range(s.rounds):
        rho, normal, nl, usable = _lit(ba, geo, s)
        if glossy.any():
            usable &= ~(_in_cone(normal, nl, geo, s) & glossy)
        size = np.abs(xa - nl * rho)
        scale = np.maximum(_median_of(size, usable, np.maximum(usable.sum(axis=0), 1)), floor)
        weights = _hampel(size, np.maximum(scale, 1e-12), s)
        weights *= usable
        b_new = _weighted_fit(xa, weights, geo)
        # A fit needs lights enough to fix it, and a normal that faces the camera (one that does not is a
        # few lights' noise, or shadows taken for light): otherwise the pixel keeps its last fit.
        solved = (np.count_nonzero(weights, axis=0) >= s.min_lights) & (b_new[2] > 0)
        b_new = np.where(solved, b_new, ba)
        wa = np.where(solved, weights, wa)
        moving = np.abs(b_new - ba).max(axis=0) > s.tolerance * rho
        b[:, active] = b_new
        done = ~moving
        w[:, active[done]] = wa[:, done]
        active, glossy = active[moving], glossy[moving]
        if not active.size:
            break
        xa, ba, wa = xa[:, moving], b_new[:, moving], wa[:, moving]
    if active.size:
        w[:, active] = wa
    return b, w


def _screen(x: np.ndarray, noise: float, geo: LightGeometry, s: RobustSettings
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The plain least-squares fits (3, B), their rms misfit (B,), and which pixels are left to iterate:
    those with a light behind or grazing the surface, or one outside the core of their scale."""
    n = len(x)
    b = light_dot(geo.pinv, x)
    fit = light_dot(geo.d, b)
    res = np.abs(x - fit)
    all_lit = np.all(fit > s.grazing * _albedo(b), axis=0)
    bound = np.float32(s.core * s.noise_floor * noise)
    if s.core > 1:  # else max |r| <= core x median |r| cannot hold, and only the noise floor counts
        ordered = sort_rows(res)
        bound = np.maximum(bound, s.core * 0.5 * (ordered[(n - 1) // 2] + ordered[n // 2]))
    clean = all_lit & (res.max(axis=0) <= bound)
    return b, np.sqrt(np.einsum("jb,jb->b", res, res) / n), ~clean


def _refit(x: np.ndarray, noise: float, geo: LightGeometry, s: RobustSettings
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The M-estimates (3, B), their rms misfit over the lights used (B,), and the share used (B,)."""
    b, w = _iterate(x, noise, geo, s)
    res = x - light_dot(geo.d, b)
    used = w.sum(axis=0)
    return b, np.sqrt(np.einsum("jb,jb,jb->b", w, res, res) / np.maximum(used, 1e-6)), used / len(x)


def solve_robust(images: np.ndarray | list[np.ndarray], d: np.ndarray, gain: np.ndarray, mask: np.ndarray | None,
                 report: Progress, settings: RobustSettings | None = None) -> PhotometricResult:
    """`images`: an (N, H, W) float32 stack, or a list of N (H, W) planes of any numeric type (a capture's
    decoded pixels) read a block at a time, as the l2 solve reads them: no float copy of the capture."""
    s = settings or RobustSettings()
    n, (h, w) = len(images), images[0].shape
    pixels = h * w
    stacked = isinstance(images, np.ndarray)
    flat = images.reshape(n, pixels) if stacked else [plane.reshape(pixels) for plane in images]
    geo = LightGeometry(d)
    g32 = None if np.all(gain == 1.0) else gain.astype(np.float32)[:, None]
    noise = capture_noise(images, geo, gain, mask)
    normals, albedo = np.empty((pixels, 3), np.float32), np.empty(pixels, np.float32)
    rms, share = np.empty(pixels, np.float32), np.ones(pixels, np.float32)
    left = np.zeros(pixels, bool)
    block = max(256, BLOCK_VALUES // n)

    def values(cols: slice | np.ndarray) -> np.ndarray:
        if stacked:
            return flat[:, cols] * g32 if g32 is not None else flat[:, cols]
        x = np.empty((n, cols.stop - cols.start if isinstance(cols, slice) else cols.size), np.float32)
        return plane_block(flat, cols, x, None if g32 is None else g32[:, 0])

    def screen(start: int) -> None:
        cols = slice(start, min(pixels, start + block))
        b, rms[cols], left[cols] = _screen(values(cols), noise, geo, s)
        store_fits(b, normals[cols], albedo[cols])

    def refit(start: int) -> None:
        cols = rest[start:start + block]
        b, rms[cols], share[cols] = _refit(values(cols), noise, geo, s)
        unit, rho = np.empty((cols.size, 3), np.float32), np.empty(cols.size, np.float32)
        store_fits(b, unit, rho)
        normals[cols], albedo[cols] = unit, rho

    # The screen is cheap, and slices of the planes cost no gather: it runs over the whole frame (as l2
    # does), the iteration only on the card.
    run_blocks(screen, range(0, pixels, block), lambda f: report(0.3 * f, "solving normals (robust)"))
    rest = np.flatnonzero(left if mask is None else left & mask.ravel())
    run_blocks(refit, range(0, rest.size, block), lambda f: report(0.3 + 0.7 * f, "leaving out shadows and highlights"))
    if mask is None:
        mask = np.ones((h, w), bool)
    else:
        outside = ~mask.ravel()
        for plane in (normals, albedo, rms, share):
            plane[outside] = 0
    return PhotometricResult(normals.reshape(h, w, 3), albedo.reshape(h, w), rms.reshape(h, w), mask, "robust",
                             share.reshape(h, w))

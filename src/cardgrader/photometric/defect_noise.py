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

from dataclasses import dataclass

import cv2
import numpy as np

RAYLEIGH_MEDIAN = float(np.sqrt(2.0 * np.log(2.0)))  # median length of a 2-D error with unit sd per axis
DARKEST = 1e-3  # an albedo below this carries no signal: its normal is noise


SAMPLE = 250_000  # how many values a median is taken over, at most


def median(values: np.ndarray) -> float:
    """np.median of `values` (flat; NaN when empty), from a partition at the middle: numpy 2.4 sorts
    250,000 float32 in 7.2 ms and partitions them in 1.9 (np.median, 2.5 ms, does more besides)."""
    flat = np.ravel(values)
    if not flat.size:
        return float("nan")
    half, odd = flat.size // 2, flat.size % 2
    middle = np.partition(flat, half if odd else [half - 1, half])[half - 1 + odd:half + 1]  # in order
    return float(_middle(middle[None, :])[0])


def _middle(rows: np.ndarray) -> np.ndarray:
    """The median of each row of a row-sorted (K, M) array: the middle value, or the mean of the middle
    two, as np.median takes it."""
    half = rows.shape[1] // 2
    if rows.shape[1] % 2:
        return rows[:, half]
    return (rows[:, half - 1] + rows[:, half]) * rows.dtype.type(0.5)


def sample(values: np.ndarray, most: int = SAMPLE) -> np.ndarray:
    """Every k-th of `values` (flat), at most `most` of them: a median needs no more."""
    flat = values.ravel()
    return flat[::max(1, flat.size // most)]


def noise_scale(deviation: np.ndarray, inner: np.ndarray, gain: np.ndarray) -> float:
    """The card's noise per unit of relative noise (radians): the median over the card of deviation
    over the pixel's relative noise (deviation x `gain`, gain = 1 / relative noise), as a Rayleigh median."""
    ratio = sample(cv2.multiply(np.asarray(deviation, np.float32), np.asarray(gain, np.float32))[inner])
    return median(ratio) / RAYLEIGH_MEDIAN if ratio.size else 0.0


def local_scale(normals: np.ndarray, gain: np.ndarray, tile: int = 16) -> np.ndarray:
    """The noise scale each neighbourhood shows: how its normals' tilts, each divided by its pixel's
    relative noise (times `gain`, its inverse), scatter about their 3 x 3 mean. The median scatter over
    tiles `tile` px wide, as the Rayleigh median of white noise after that high-pass, spread smoothly
    between tile centres. Smooth relief does not scatter, and a scratch fills too little of a tile to
    move its median; off the card the tiles show nothing, and the card's own scale stands."""
    # Each step into an array already made where it can: fresh card-size memory costs more than the sums.
    tilt_x, tilt_y = (cv2.extractChannel(normals, c) for c in (0, 1))
    cv2.multiply(tilt_x, gain, dst=tilt_x)
    cv2.multiply(tilt_y, gain, dst=tilt_y)
    high_x, high_y = cv2.blur(tilt_x, (3, 3)), cv2.blur(tilt_y, (3, 3))
    cv2.subtract(tilt_x, high_x, dst=high_x)
    cv2.subtract(tilt_y, high_y, dst=high_y)
    scatter = cv2.magnitude(high_x, high_y, magnitude=tilt_x)
    h, w = scatter.shape
    ph, pw = -(-h // tile) * tile, -(-w // tile) * tile
    if (ph, pw) != (h, w):
        padded = np.zeros((ph, pw), np.float32)
        padded[:h, :w] = scatter
        scatter = padded
    tiles = np.sort(scatter.reshape(ph // tile, tile, pw // tile, tile).transpose(0, 2, 1, 3).reshape(-1, tile * tile))
    medians = _middle(tiles).reshape(ph // tile, pw // tile)
    spread = cv2.resize(np.ascontiguousarray(medians, np.float32), (pw, ph), interpolation=cv2.INTER_LINEAR)[:h, :w]
    return spread * np.float32(1.0 / (RAYLEIGH_MEDIAN * np.sqrt(8.0 / 9.0)))


def excess_misfit(residual: np.ndarray, inner: np.ndarray, used: np.ndarray | None, least: int = 1000) -> np.ndarray:
    """The residual beyond what noise leaves (image units): less three times the median residual of
    the card's pixels that kept as many lights (noise leaves sigma sqrt((k - 3) / k) with k lights),
    or of the whole card where fewer than `least` pixels did."""
    on_card = residual[inner]
    overall = median(sample(on_card))
    if used is None:
        excess = cv2.subtract(np.asarray(residual, np.float32), 3.0 * overall)
        return cv2.max(excess, 0.0, dst=excess)
    group = np.rint(used * 1000).astype(np.uint16)
    typical = np.full(1001, overall, np.float32)
    counts = cv2.calcHist([group], [0], inner.astype(np.uint8), [1001], [0, 1001]).ravel().astype(np.int64)
    shares = np.flatnonzero(counts >= least)
    if shares.size > 255:  # more kinds of pixel than a byte can name: the plain way
        for share in shares:
            typical[share] = median(sample(residual[inner & (group == share)]))
        return np.maximum(residual - 3.0 * typical[group], 0.0)
    # Each pixel's share as a byte (0: a share of too few pixels, judged by the whole card). A share of
    # fewer than 2 x SAMPLE pixels is sampled whole, so its median needs its residuals in any order: one
    # stable sort of those pixels by share gives them all, instead of a pass over the card per share. A
    # larger share is sampled every k-th pixel in the card's order, so it is picked out in that order.
    code_of = np.zeros(1001, np.uint8)
    code_of[shares] = np.arange(1, shares.size + 1)
    codes = code_of[group]
    on_card_codes = codes[inner]
    table = np.full(256, overall, np.float32)
    sizes = counts[shares]
    large = sizes >= 2 * SAMPLE
    for code in np.flatnonzero(large) + 1:
        table[code] = median(sample(on_card[on_card_codes == code]))
    if not large.all():
        whole = np.ones(256, bool)
        whole[0] = False
        whole[np.flatnonzero(large) + 1] = False
        picked = whole[on_card_codes]
        picked_codes = on_card_codes[picked]
        ordered = on_card[picked][np.argsort(picked_codes, kind="stable")]
        starts = np.concatenate([[0], np.cumsum(np.where(large, 0, sizes))])
        for code in np.flatnonzero(~large) + 1:
            table[code] = median(ordered[starts[code - 1]:starts[code]])
    excess = cv2.scaleAdd(cv2.LUT(codes, table), -3.0, np.asarray(residual, np.float32))
    return np.maximum(excess, 0.0, out=excess)


@dataclass
class NoiseParts:
    """What a pixel's noise takes besides the card's deviation from its smooth shape, so that it can be
    worked out alongside that deviation: `gain` (1 / relative noise), `local` (`local_scale`) and `misfit`
    (the residual that noise does not explain, over the albedo; None without a residual)."""

    gain: np.ndarray
    local: np.ndarray
    misfit: np.ndarray | None


def noise_parts(normals: np.ndarray, inner: np.ndarray, albedo: np.ndarray | None, used: np.ndarray | None,
                residual: np.ndarray | None) -> NoiseParts:
    """The parts of each pixel's noise that its deviation does not enter (see the module docstring)."""
    signal = None if albedo is None else np.maximum(np.asarray(albedo, np.float32), np.float32(DARKEST))
    gain = np.ones(normals.shape[:2], np.float32) if signal is None else signal  # 1 / relative noise
    if used is not None:
        gain = gain * np.sqrt(np.clip(np.asarray(used, np.float32), np.float32(1e-3), np.float32(1.0)))
    misfit = None
    if residual is not None and signal is not None:
        misfit = cv2.divide(np.asarray(excess_misfit(residual, inner, used), np.float32), signal)
    return NoiseParts(gain, local_scale(normals, gain), misfit)


def pixel_noise(deviation: np.ndarray, parts: NoiseParts, inner: np.ndarray, floor: float) -> np.ndarray:
    """Sigma per pixel, in radians, for `deviation` in radians (see the module docstring)."""
    scale = np.maximum(parts.local, np.float32(noise_scale(deviation, inner, parts.gain)))
    variance = cv2.divide(scale, parts.gain, dst=scale)
    variance *= variance
    variance += np.float32(floor) ** 2
    if parts.misfit is not None:
        variance += cv2.multiply(parts.misfit, parts.misfit)
    return np.sqrt(variance, out=variance)

"""Rendered photometric-stereo captures with known normals, for tests, benchmarks and demos.

Surfaces are height fields seen by an orthographic camera looking down -z (frame: x right, y up, z to
the camera). A capture renders each light with a Lambertian diffuse term, an optional Cook-Torrance
(GGX) highlight, cast shadows traced over the height field, noise and quantisation, so the solvers
meet the same trouble as in real photos: attached and cast shadows, highlights, grazing light.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

VIEW = np.array([0.0, 0.0, 1.0])


# ---- lights -----------------------------------------------------------------------------------------
def grid_lights(columns: int = 12, rows: int = 8, half_width: float = 0.75, half_height: float = 0.55) -> np.ndarray:
    """Directions to a flat grid of lamps in front of the object, like DiLiGenT's 12 x 8 LED board
    (about 43 degrees at the corners); (rows*columns, 3) unit vectors."""
    xs = np.linspace(-half_width, half_width, columns)
    ys = np.linspace(half_height, -half_height, rows)
    gx, gy = np.meshgrid(xs, ys)
    d = np.stack([gx.ravel(), gy.ravel(), np.ones(gx.size)], axis=1)
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def ring_lights(count: int = 8, elevation_deg: float = 45.0, start_deg: float = 0.0) -> np.ndarray:
    """`count` lights evenly around the camera axis at one elevation above the card plane."""
    az = np.deg2rad(start_deg + 360.0 * np.arange(count) / count)
    el = np.deg2rad(elevation_deg)
    return np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.full(count, np.sin(el))], axis=1)


# ---- surfaces ---------------------------------------------------------------------------------------
def normals_from_height(height: np.ndarray) -> np.ndarray:
    """Unit normals (H, W, 3) of a height field given in pixels (rows go down, y goes up)."""
    dz_dcol = np.gradient(height, axis=1)
    dz_drow = np.gradient(height, axis=0)
    n = np.stack([-dz_dcol, dz_drow, np.ones_like(height)], axis=-1)
    return (n / np.linalg.norm(n, axis=-1, keepdims=True)).astype(np.float32)


def sphere(size: int = 128, radius: float = 0.45) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A sphere filling `radius` of the frame: (height, normals, mask). Normals are exact, not differenced."""
    r = radius * size
    c = (size - 1) / 2.0
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    x, y = (xx - c) / r, (c - yy) / r
    rho2 = x * x + y * y
    mask = rho2 < 1.0
    z = np.sqrt(np.clip(1.0 - rho2, 0.0, None))
    normals = np.where(mask[..., None], np.stack([x, y, z], axis=-1), [0.0, 0.0, 1.0]).astype(np.float32)
    return (z * r).astype(np.float64), normals, mask


def bumps(size: int = 128, count: int = 12, seed: int = 0, relief: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A blobby relief (Gaussian hills and pits on a low dome) that casts shadows: (height, normals, mask).
    `relief` scales the hills and pits; 2 or more gives deep folds like a statue's."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    c = (size - 1) / 2.0
    height = 0.25 * size * np.sqrt(np.clip(1 - ((xx - c) ** 2 + (yy - c) ** 2) / (0.75 * size) ** 2, 0, None))
    for _ in range(count):
        cx, cy = rng.uniform(0.15, 0.85, 2) * size
        s = rng.uniform(0.04, 0.1) * size
        amp = relief * rng.choice([-1, 1]) * rng.uniform(0.6, 1.4) * s
        height += amp * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * s * s))
    return height, normals_from_height(height), np.ones((size, size), bool)


@dataclass
class PlantedDefect:
    """A defect drawn into a synthetic card: its kind, pixel bbox (x0, y0, x1, y1) and depth in pixels."""

    kind: str
    bbox: tuple[int, int, int, int]
    depth: float


@dataclass
class SyntheticCard:
    height: np.ndarray
    normals: np.ndarray
    mask: np.ndarray
    albedo: np.ndarray
    defects: list[PlantedDefect] = field(default_factory=list)
    specular: np.ndarray | float = 0.0  # strength of the glossy lobe per pixel (foil), for `render`


def _segment_distance(xx: np.ndarray, yy: np.ndarray, p0: np.ndarray, p1: np.ndarray) -> np.ndarray:
    d = p1 - p0
    t = np.clip(((xx - p0[0]) * d[0] + (yy - p0[1]) * d[1]) / max(float(d @ d), 1e-9), 0, 1)
    return np.hypot(xx - (p0[0] + t * d[0]), yy - (p0[1] + t * d[1]))


def card(height_px: int = 160, width_px: int = 120, dents: int = 2, scratches: int = 2, creases: int = 0,
         warp: float = 0.08, printed: bool = True, seed: int = 0, artwork: str | None = None,
         dent_radius: tuple[float, float] = (0.05, 0.08), dent_depth: tuple[float, float] = (0.25, 0.4)) -> SyntheticCard:
    """A warped card (a gentle saddle and bow) with planted dents, scratches and creases (fewer when
    the card has no clear room left for one: planted defects never touch).

    Dents are smooth round pits, scratches thin straight grooves, creases long sharp folds across the
    card; `warp` is the bow's rise as a fraction of the card width. A dent's radius is drawn from
    `dent_radius` (shares of the short side), its depth from `dent_depth` (shares of its radius). The
    printed albedo carries shapes and text-like bars, so a defect map must tell print from relief;
    `artwork` (one of `ARTWORKS`) prints a harder face instead (see `printed_face`), and
    `printed=False` leaves blank stock.
    """
    rng = np.random.default_rng(seed)
    h, w = height_px, width_px
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    u, v = (xx - w / 2) / w, (yy - h / 2) / h
    height = warp * w * (0.6 * (u * u - 0.5 * v * v) + 0.4 * v * v)
    defects: list[PlantedDefect] = []
    margin = 0.12
    placed: list[tuple[float, float, float]] = []
    crease_lines = [(rng.uniform(0.3, 0.7) * h, rng.uniform(-0.15, 0.15)) for _ in range(creases)]

    def free_spot(radius: float) -> tuple[float, float] | None:
        """A centre clear of the edges, of the other defects and of the creases (None: the card is full)."""
        for _ in range(200):
            cx, cy = rng.uniform(margin * w + radius, (1 - margin) * w - radius), rng.uniform(margin * h + radius, (1 - margin) * h - radius)
            clear = all(np.hypot(cx - px, cy - py) > radius + pr + 6 for px, py, pr in placed)
            if clear and all(abs(cy - (row + tilt * (cx - w / 2))) > radius + 8 for row, tilt in crease_lines):
                placed.append((cx, cy, radius))
                return cx, cy
        return None

    for _ in range(dents):
        radius = rng.uniform(*dent_radius) * min(h, w)
        spot = free_spot(radius * 1.6)
        if spot is None:
            continue
        cx, cy = spot
        depth = rng.uniform(*dent_depth) * radius
        height -= depth * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (radius / 2) ** 2))
        r = int(np.ceil(radius * 1.1))
        defects.append(PlantedDefect("dent", (int(cx - r), int(cy - r), int(cx + r), int(cy + r)), float(depth)))
    for _ in range(scratches):
        length = rng.uniform(0.25, 0.4) * min(h, w)
        spot = free_spot(length / 2)
        if spot is None:
            continue
        cx, cy = spot
        angle = rng.uniform(0, np.pi)
        half = np.array([np.cos(angle), np.sin(angle)]) * length / 2
        p0, p1 = np.array([cx, cy]) - half, np.array([cx, cy]) + half
        dist = _segment_distance(xx, yy, p0, p1)
        depth = rng.uniform(0.8, 1.2)
        height -= depth * np.exp(-(dist ** 2) / (2 * 0.9 ** 2))
        x0, x1 = sorted((p0[0], p1[0]))
        y0, y1 = sorted((p0[1], p1[1]))
        defects.append(PlantedDefect("scratch", (int(x0 - 2), int(y0 - 2), int(np.ceil(x1 + 2)), int(np.ceil(y1 + 2))), float(depth)))
    for row, tilt in crease_lines:
        line = row + tilt * (xx - w / 2)
        dist = yy - line
        depth = rng.uniform(1.0, 1.6)
        height -= depth * np.exp(-np.abs(dist) / 1.5)
        top, bottom = row - abs(tilt) * w / 2, row + abs(tilt) * w / 2
        defects.append(PlantedDefect("crease", (0, int(top - 3), w - 1, int(np.ceil(bottom + 3))), float(depth)))

    if artwork is not None:
        albedo, specular = printed_face(artwork, h, w, seed)
    else:
        albedo, specular = (_panels(rng, h, w) if printed else np.full((h, w), STOCK, np.float32)), 0.0
    return SyntheticCard(height, normals_from_height(height), np.ones((h, w), bool), albedo, defects, specular)


# ---- printed faces ----------------------------------------------------------------------------------------
STOCK = 0.85  # white card stock
DARK_INK = 0.08  # dark ink reflects about a tenth of what the stock does: its normals are ten times noisier
ARTWORKS = ("panels", "checker", "text", "halftone", "foil")


def _panels(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """The plain print `card` has always drawn: a framed panel, discs of several tones and a bright bar."""
    albedo = np.full((h, w), STOCK)
    border = int(0.08 * w)
    albedo[border:h - border, border:w - border] = 0.55
    for _ in range(5):
        cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
        cv2.circle(albedo, (int(cx), int(cy)), int(rng.uniform(0.06, 0.16) * w), float(rng.uniform(0.3, 0.9)), -1)
    bar = int(0.78 * h)
    albedo[bar:bar + max(2, h // 20), border * 2:w - border * 2] = 0.95
    return albedo.astype(np.float32)


def _inked(coverage: np.ndarray) -> np.ndarray:
    """Albedo of stock covered by dark ink in the given share (0-1) of each pixel."""
    return (STOCK - (STOCK - DARK_INK) * np.clip(coverage, 0.0, 1.0)).astype(np.float32)


def _checker(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    side = max(4, w // 12)
    oy, ox = (int(v) for v in rng.integers(0, side, 2))
    yy, xx = np.mgrid[0:h, 0:w]
    return _inked((((yy + oy) // side + (xx + ox) // side) % 2 == 0).astype(np.float32))


def _text(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Lines of anti-aliased lettering (strokes 1-3 px wide), with now and then a bold heading."""
    ink = np.zeros((h, w), np.uint8)
    letters = list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    body = max(0.2, h / 900)  # letters about a 40th of the card's height
    y = 0.08 * h
    while y < 0.93 * h:
        heading = rng.random() < 0.15
        scale, thickness = (1.6 * body, max(2, round(3 * body))) if heading else (body, max(1, round(1.5 * body)))
        words = " ".join("".join(rng.choice(letters, int(rng.integers(2, 9)))) for _ in range(16))
        cv2.putText(ink, words, (int(0.06 * w), int(y)), cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thickness, cv2.LINE_AA)
        y += 38 * scale
    return _inked(ink / 255.0)


def _halftone(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A screened photo: ink dots on a 45-degree grid, each dot's area the local tone of a smooth image."""
    pitch = max(3.0, w / 70)
    coarse = 0.1 + 0.8 * rng.random((max(2, h // 40), max(2, w // 40)))  # tones from 10 to 90 % ink
    tone = np.clip(cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC), 0, 1)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    u, v = (xx + yy) / (np.sqrt(2) * pitch), (xx - yy) / (np.sqrt(2) * pitch)
    dist = np.hypot(u - np.round(u), v - np.round(v)) * pitch
    return _inked(pitch * np.sqrt(tone / np.pi) - dist + 0.5)  # a pixel of anti-aliasing at each rim


def _foil(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """The panel print with a holographic foil window: dark diffuse, a strong gloss in diffraction bands."""
    albedo = _panels(rng, h, w)
    specular = np.zeros((h, w), np.float32)
    fw, fh = (rng.uniform(0.4, 0.7) * w, rng.uniform(0.25, 0.4) * h)
    x0, y0 = int(rng.uniform(0.1 * w, 0.9 * w - fw)), int(rng.uniform(0.1 * h, 0.9 * h - fh))
    window = (slice(y0, y0 + int(fh)), slice(x0, x0 + int(fw)))
    yy, xx = np.mgrid[window].astype(np.float64)
    angle, period = rng.uniform(0, np.pi), rng.uniform(0.03, 0.08) * w
    bands = 0.5 + 0.5 * np.cos(2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / period)
    albedo[window] = 0.2
    specular[window] = 1.5 + 2.5 * bands
    return albedo, specular


def printed_face(kind: str, height_px: int, width_px: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray | float]:
    """(albedo (H, W), specular strength: (H, W) for foil, else 0) of a card's printed face:

    - "panels": the plain print `card` draws by default (mid-tone panel and discs, a bright bar);
    - "checker": a checkerboard of dark ink on white stock (about 10:1), squares a twelfth of the width;
    - "text": lines of dark lettering like a card's rules text, strokes 1-3 px wide, some bold headings;
    - "halftone": a screened photo, dark dots on a 45-degree grid whose size follows the tone;
    - "foil": the panel print with a holographic foil window (dark diffuse, strong banded gloss).
    """
    rng = np.random.default_rng([seed, 1])  # its own stream: a card's print does not move its relief
    h, w = height_px, width_px
    if kind == "foil":
        return _foil(rng, h, w)
    makers = {"panels": _panels, "checker": _checker, "text": _text, "halftone": _halftone}
    if kind not in makers:
        raise ValueError(f"Unknown artwork {kind!r}; use one of {', '.join(ARTWORKS)}.")
    return makers[kind](rng, h, w), 0.0


# ---- rendering ------------------------------------------------------------------------------------------
def cast_shadows(height: np.ndarray, direction: np.ndarray, max_steps: int | None = None) -> np.ndarray:
    """True where the height field blocks the light: march toward the light one pixel at a time."""
    h, w = height.shape
    lx, ly, lz = (float(v) for v in direction)
    planar = np.hypot(lx, ly)
    shadow = np.zeros((h, w), bool)
    if planar < 1e-6:
        return shadow
    rise = lz / planar  # height the ray gains per pixel travelled
    dcol, drow = lx / planar, -ly / planar
    span = float(height.max() - height.min())
    steps = int(min(max_steps or max(h, w), np.ceil(span / max(rise, 1e-6)) + 1))
    for t in range(1, steps + 1):
        oc, orow = round(t * dcol), round(t * drow)
        if abs(oc) >= w or abs(orow) >= h:
            break
        src = height[max(0, orow):h + min(0, orow), max(0, oc):w + min(0, oc)]
        dst = (slice(max(0, -orow), h + min(0, -orow)), slice(max(0, -oc), w + min(0, -oc)))
        shadow[dst] |= src > height[dst] + t * rise + 1e-6
    return shadow


def shade(normals: np.ndarray, directions: np.ndarray, albedo: np.ndarray | float = 1.0,
          specular: np.ndarray | float = 0.0, roughness: float = 0.3, fresnel: float = 0.04,
          diffuse_roughness: float = 0.0) -> np.ndarray:
    """Radiance (N, H, W) of a diffuse + Cook-Torrance (GGX, Smith, Schlick) surface, no shadows cast.
    `albedo` and `specular` are one number or one per pixel (a foil window glosses, the print does not).

    The diffuse term is Lambertian, or Oren-Nayar with `diffuse_roughness` (sigma, radians) for matte
    surfaces that are flatter than Lambert's cosine.
    """
    n = normals.astype(np.float64)
    out = np.empty((len(directions),) + n.shape[:2])
    nv = np.clip(n[..., 2], 1e-4, None)
    s2 = diffuse_roughness ** 2
    on_a, on_b = 1 - 0.5 * s2 / (s2 + 0.33), 0.45 * s2 / (s2 + 0.09)
    theta_r = np.arccos(np.clip(nv, -1, 1))
    view_t = VIEW - nv[..., None] * n  # the view direction projected on the tangent plane
    a2 = roughness ** 4  # alpha = roughness^2, the usual perceptual mapping
    k = (roughness + 1) ** 2 / 8
    g_v = nv / (nv * (1 - k) + k)
    for i, l in enumerate(np.asarray(directions, np.float64)):
        nl = n @ l
        lit = np.clip(nl, 0, None)
        value = np.asarray(albedo) * lit
        if diffuse_roughness:
            theta_i = np.arccos(np.clip(nl, -1, 1))
            light_t = l - nl[..., None] * n
            cos_phi = np.sum(light_t * view_t, axis=-1) / np.maximum(
                np.linalg.norm(light_t, axis=-1) * np.linalg.norm(view_t, axis=-1), 1e-9)
            alpha, beta = np.maximum(theta_i, theta_r), np.minimum(theta_i, theta_r)
            value = value * (on_a + on_b * np.clip(cos_phi, 0, None) * np.sin(alpha) * np.tan(beta))
        if np.any(specular):
            hvec = (l + VIEW) / np.linalg.norm(l + VIEW)
            nh = np.clip(n @ hvec, 0, 1)
            d = a2 / (np.pi * (nh * nh * (a2 - 1) + 1) ** 2)
            f = fresnel + (1 - fresnel) * (1 - float(hvec @ VIEW)) ** 5
            g = g_v * lit / (lit * (1 - k) + k)
            value = value + specular * d * f * g / (4 * nv)
        out[i] = value
    return out


@dataclass
class Capture:
    """A rendered capture: images (N, H, W) float32 in [0, 1], the light directions, and the truth."""

    images: np.ndarray
    directions: np.ndarray
    normals: np.ndarray
    mask: np.ndarray
    albedo: np.ndarray


def render(height: np.ndarray | None, normals: np.ndarray, mask: np.ndarray, directions: np.ndarray,
           albedo: np.ndarray | float = 0.8, specular: np.ndarray | float = 0.0, roughness: float = 0.3, noise: float = 0.0,
           shadows: bool = True, ambient: float = 0.0, bits: int | None = None, seed: int = 0,
           diffuse_roughness: float = 0.0) -> Capture:
    """Render a capture of a surface. `noise` is the standard deviation of additive noise (image range
    0-1); `bits` quantises like an 8- or 16-bit camera; values clip at 1 like a saturated sensor."""
    rng = np.random.default_rng(seed)
    directions = np.asarray(directions, np.float64)
    radiance = shade(normals, directions, albedo, specular, roughness, diffuse_roughness=diffuse_roughness)
    if shadows and height is not None:
        for i, l in enumerate(directions):
            radiance[i][cast_shadows(height, l)] = 0.0
    radiance += ambient
    if noise:
        radiance += rng.normal(0, noise, radiance.shape)
    radiance = np.clip(radiance, 0, 1)
    if bits:
        top = 2 ** bits - 1
        radiance = np.round(radiance * top) / top
    radiance[:, ~mask] = 0.0
    alb = np.broadcast_to(np.asarray(albedo, np.float32), mask.shape).astype(np.float32)
    return Capture(radiance.astype(np.float32), directions.astype(np.float32), normals.astype(np.float32), mask, alb)


def angular_error(estimate: np.ndarray, truth: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Angle in degrees between two normal maps at each pixel of the mask (a flat array)."""
    e = estimate.reshape(-1, 3).astype(np.float64)
    t = truth.reshape(-1, 3).astype(np.float64)
    if mask is not None:
        keep = np.asarray(mask, bool).ravel()
        e, t = e[keep], t[keep]
    cos = np.sum(e * t, axis=1) / np.maximum(np.linalg.norm(e, axis=1) * np.linalg.norm(t, axis=1), 1e-12)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def mirror_sphere(size: int, directions: np.ndarray, radius: float = 0.4, shininess: float = 3000.0,
                  noise: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, H, W) of a chrome sphere under each light (a sharp Phong lobe around the mirror
    direction) and the sphere's mask, for calibration."""
    rng = np.random.default_rng(seed)
    _h, normals, mask = sphere(size, radius)
    n = normals.astype(np.float64)
    mirror = 2.0 * n[..., 2:3] * n - VIEW
    images = np.empty((len(directions), size, size), np.float32)
    for i, l in enumerate(np.asarray(directions, np.float64)):
        lobe = np.clip(mirror @ l, 0, 1) ** shininess
        image = np.where(mask, 0.05 + lobe, 0.0)  # a faint reflection of the room, then the light
        if noise:
            image = image + rng.normal(0, noise, mask.shape)
        images[i] = np.clip(image, 0, 1)
    return images, mask


def write_capture(folder: str | Path, capture: Capture, bits: int = 16, mask: bool = False,
                  prefix: str = "light") -> Path:
    """Save a capture as a folder a user would have: one PNG per light plus lights.json (and mask.png)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    top = 2 ** bits - 1
    names = []
    for i, image in enumerate(capture.images):
        name = f"{prefix}_{i:02d}.png"
        cv2.imwrite(str(folder / name), np.round(np.clip(image, 0, 1) * top).astype(np.uint16 if bits > 8 else np.uint8))
        names.append(name)
    spec = {"images": names, "directions": np.round(capture.directions.astype(float), 6).tolist(),
            "intensities": [1.0] * len(names)}
    (folder / "lights.json").write_text(json.dumps(spec, indent=2), encoding="utf-8")
    if mask:
        cv2.imwrite(str(folder / "mask.png"), capture.mask.astype(np.uint8) * 255)
    return folder

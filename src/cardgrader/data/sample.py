"""Synthetic card photos with exact border labels.

A card (rounded stock, a printed inner border at a known offset) is drawn flat, then rotated a few
degrees with mild perspective onto a varied background, with a lighting gradient, blur and noise.
The outer (physical) and inner (printed) borders are returned as polygons in image pixels, so they
convert to boxes, masks and oriented boxes, together with the true border widths and centering.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

CARD_ASPECT = 88.0 / 63.0  # height / width of a standard trading card


@dataclass
class CardTruth:
    image: str
    side: str
    width: int
    height: int
    outer: list[list[float]]  # 4 corners, pixels, clockwise from top-left
    inner: list[list[float]]
    border_px: dict[str, float]  # left, right, top, bottom in the card's own frame (flat card pixels)
    centering_lr: float
    centering_tb: float
    rotation_deg: float


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    c0, c1 = rng.uniform(20, 235, 3), rng.uniform(20, 235, 3)
    t = np.linspace(0, 1, w, dtype=np.float32)[None, :, None] * np.ones((h, 1, 1), np.float32)
    if rng.random() < 0.5:
        t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None] * np.ones((1, w, 1), np.float32)
    img = c0 * (1 - t) + c1 * t
    texture = cv2.GaussianBlur(rng.normal(0, 18, (h, w)).astype(np.float32), (0, 0), rng.uniform(1, 4))
    return np.clip(img + texture[..., None], 0, 255)


def _design(rng: np.random.Generator, w: int, h: int, side: str) -> np.ndarray:
    """The printed art inside the inner border."""
    if side == "back":
        base = np.array([rng.uniform(90, 160), rng.uniform(20, 60), rng.uniform(10, 40)], np.float32)
        img = np.ones((h, w, 3), np.float32) * base
        step = max(4, w // 10)
        for y in range(0, h, step):
            cv2.line(img, (0, y), (w, y + step), tuple(float(v) for v in base * 1.4), 1)
        cv2.ellipse(img, (w // 2, h // 2), (w // 3, h // 5), 0, 0, 360, (40, 200, 230), -1)
        return img
    img = np.ones((h, w, 3), np.float32) * rng.uniform(60, 220, 3)
    for _ in range(6):
        color = tuple(float(v) for v in rng.uniform(0, 255, 3))
        center = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        cv2.circle(img, center, int(rng.uniform(w * 0.08, w * 0.35)), color, -1)
    cv2.rectangle(img, (w // 10, int(h * 0.78)), (w - w // 10, int(h * 0.9)), (235, 235, 235), -1)
    return img


def draw_card(rng: np.random.Generator, side: str, card_w: int) -> tuple[np.ndarray, np.ndarray, dict, tuple[float, float]]:
    """A flat card image (BGR float32), its alpha mask, border widths in pixels and the centering."""
    card_h = int(round(card_w * CARD_ASPECT))
    stock = np.array([rng.uniform(215, 250)] * 3, np.float32) - np.array([0, 4, 10], np.float32) * rng.random()
    card = np.ones((card_h, card_w, 3), np.float32) * stock
    alpha = np.zeros((card_h, card_w), np.uint8)
    radius = max(2, int(card_w * 0.045))
    cv2.rectangle(alpha, (radius, 0), (card_w - 1 - radius, card_h - 1), 255, -1)
    cv2.rectangle(alpha, (0, radius), (card_w - 1, card_h - 1 - radius), 255, -1)
    for cx, cy in ((radius, radius), (card_w - 1 - radius, radius), (radius, card_h - 1 - radius),
                   (card_w - 1 - radius, card_h - 1 - radius)):
        cv2.circle(alpha, (cx, cy), radius, 255, -1)

    total_x = card_w * rng.uniform(0.10, 0.16)  # left + right border
    total_y = card_h * rng.uniform(0.08, 0.13)
    share_lr = rng.uniform(50, 80)
    share_tb = rng.uniform(50, 70)
    big_x, big_y = total_x * share_lr / 100, total_y * share_tb / 100
    left, right = (big_x, total_x - big_x) if rng.random() < 0.5 else (total_x - big_x, big_x)
    top, bottom = (big_y, total_y - big_y) if rng.random() < 0.5 else (total_y - big_y, big_y)
    x0, y0 = int(round(left)), int(round(top))
    x1, y1 = int(round(card_w - right)), int(round(card_h - bottom))
    card[y0:y1, x0:x1] = _design(rng, x1 - x0, y1 - y0, side)
    cv2.rectangle(card, (x0, y0), (x1 - 1, y1 - 1), (30, 30, 30), 1)
    widths = {"left": float(x0), "right": float(card_w - x1), "top": float(y0), "bottom": float(card_h - y1)}
    lr = 100 * max(widths["left"], widths["right"]) / (widths["left"] + widths["right"])
    tb = 100 * max(widths["top"], widths["bottom"]) / (widths["top"] + widths["bottom"])
    return card, alpha, widths, (lr, tb)


def render(rng: np.random.Generator, side: str, size: tuple[int, int]) -> tuple[np.ndarray, CardTruth]:
    """One photo (BGR uint8) of a card on a background, with its truth."""
    w, h = size
    scale = rng.uniform(0.62, 0.8)
    card_h_px = h * scale
    card_w = max(24, int(card_h_px / CARD_ASPECT))
    card, alpha, widths, (lr, tb) = draw_card(rng, side, card_w)
    ch, cw = alpha.shape
    angle = rng.uniform(-4, 4)
    cx, cy = w / 2 + rng.uniform(-0.08, 0.08) * w, h / 2 + rng.uniform(-0.06, 0.06) * h
    src = np.float32([[0, 0], [cw, 0], [cw, ch], [0, ch]])
    rot = cv2.getRotationMatrix2D((0, 0), angle, 1.0)[:, :2]
    centred = (src - [cw / 2, ch / 2]) @ rot.T + [cx, cy]
    jitter = rng.uniform(-0.012, 0.012, (4, 2)) * [cw, ch]  # mild perspective
    dst = np.float32(centred + jitter)
    warp = cv2.getPerspectiveTransform(src, dst)

    image = _background(rng, w, h)
    card_img = cv2.warpPerspective(card, warp, (w, h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(alpha, warp, (w, h), flags=cv2.INTER_LINEAR).astype(np.float32)[..., None] / 255
    shadow = cv2.GaussianBlur(mask, (0, 0), 3)[..., None] if mask.ndim == 2 else cv2.GaussianBlur(mask[..., 0], (0, 0), 3)[..., None]
    image = image * (1 - 0.35 * shadow) * (1 - mask) + card_img * mask
    gx = np.linspace(rng.uniform(0.75, 1.0), rng.uniform(1.0, 1.2), w, dtype=np.float32)
    gy = np.linspace(rng.uniform(0.85, 1.0), rng.uniform(1.0, 1.15), h, dtype=np.float32)
    image = image * (gy[:, None, None] * gx[None, :, None])
    sigma = rng.uniform(0.0, 0.9)
    if sigma > 0.2:
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    image = np.clip(image + rng.normal(0, rng.uniform(1, 5), image.shape), 0, 255).astype(np.uint8)

    inner_src = np.float32([
        [widths["left"], widths["top"]], [cw - widths["right"], widths["top"]],
        [cw - widths["right"], ch - widths["bottom"]], [widths["left"], ch - widths["bottom"]],
    ])
    outer = cv2.perspectiveTransform(src[None], warp)[0]
    inner = cv2.perspectiveTransform(inner_src[None], warp)[0]
    truth = CardTruth(
        image="", side=side, width=w, height=h,
        outer=outer.round(3).tolist(), inner=inner.round(3).tolist(), border_px=widths,
        centering_lr=round(lr, 3), centering_tb=round(tb, 3), rotation_deg=round(angle, 3),
    )
    return image, truth


def generate(out: str | Path, count: int = 20, seed: int = 0, side: str = "both",
             size: tuple[int, int] = (320, 320)) -> list[CardTruth]:
    """Write `count` card photos to `out/images`, YOLO polygon labels to `out/labels`
    (class 0 outer_border, 1 inner_border), `classes.txt` and `truth.json`."""
    out = Path(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "labels").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    truths = []
    for i in range(count):
        card_side = side if side != "both" else ("front" if i % 2 == 0 else "back")
        image, truth = render(rng, card_side, size)
        stem = f"card_{i:05d}_{card_side}"
        truth.image = f"images/{stem}.jpg"
        cv2.imwrite(str(out / truth.image), image, [cv2.IMWRITE_JPEG_QUALITY, 92])
        w, h = size
        lines = []
        for cls, poly in ((0, truth.outer), (1, truth.inner)):
            coords = " ".join(f"{x / w:.6f} {y / h:.6f}" for x, y in poly)
            lines.append(f"{cls} {coords}")
        (out / "labels" / f"{stem}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        truths.append(truth)
    (out / "classes.txt").write_text("outer_border\ninner_border\n", encoding="utf-8")
    (out / "truth.json").write_text(json.dumps([asdict(t) for t in truths], indent=1), encoding="utf-8")
    return truths


def _label_line(arch: str, cls: int, poly: list[list[float]], w: int, h: int) -> str:
    pts = np.asarray(poly, np.float64) / [w, h]
    pts = np.clip(pts, 0, 1)
    if arch == "detect":
        x0, y0 = pts.min(0)
        x1, y1 = pts.max(0)
        return f"{cls} {(x0 + x1) / 2:.6f} {(y0 + y1) / 2:.6f} {x1 - x0:.6f} {y1 - y0:.6f}"
    return f"{cls} " + " ".join(f"{x:.6f} {y:.6f}" for x, y in pts)


def write_training_set(out: str | Path, arch: str = "detect", count: int = 12, seed: int = 0,
                       size: tuple[int, int] = (160, 160), classes: tuple[str, ...] = ("outer_border", "inner_border"),
                       val_fraction: float = 0.25, side: str = "both") -> Path:
    """A ready-to-train Ultralytics dataset of sample cards for `arch`; returns its data.yaml.

    Until `data import` lands this is how the engine gets training data; the quad border polygons
    are valid labels for detect (box), segment (polygon) and obb (four corners).
    """
    out = Path(out)
    rng = np.random.default_rng(seed)
    n_val = max(1, int(round(count * val_fraction)))
    keep = {"outer_border": 0, "inner_border": 1}
    for i in range(count):
        split = "val" if i < n_val else "train"
        card_side = side if side != "both" else ("front" if i % 2 == 0 else "back")
        image, truth = render(rng, card_side, size)
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
        stem = f"card_{i:05d}"
        cv2.imwrite(str(out / "images" / split / f"{stem}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 92])
        lines = [
            _label_line(arch, new_id, truth.outer if keep[name] == 0 else truth.inner, *size)
            for new_id, name in enumerate(classes)
        ]
        (out / "labels" / split / f"{stem}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    data_yaml = out / "data.yaml"
    names = "\n".join(f"  {i}: {n}" for i, n in enumerate(classes))
    data_yaml.write_text(f"path: {out.resolve()}\ntrain: images/train\nval: images/val\nnames:\n{names}\n", encoding="utf-8")
    return data_yaml

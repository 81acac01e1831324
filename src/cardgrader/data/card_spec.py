"""A trading card's measurements and the flat card record: what `cards` draws and `wear` paints on, and
what the perimeter checks measure against. Plain numbers and one dataclass, so that both can import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CARD_ASPECT = 88.0 / 63.0  # height / width of a standard trading card
CARD_WIDTH_MM = 63.0
CORNER_RADIUS = 0.05  # of the card width (about 3 mm)
CORNER_BOX = 0.14  # side of a corner label, of the card width
CORNERS = ("top_left", "top_right", "bottom_right", "bottom_left")
EDGES = ("top", "right", "bottom", "left")


@dataclass
class FlatCard:
    image: np.ndarray  # BGR float32, card frame
    alpha: np.ndarray  # uint8 mask of the card stock (rounded corners, frayed where worn)
    borders: dict[str, float]  # left, right, top, bottom: printed border widths in card pixels
    outer: list[list[float]]  # the card's four corners (as if square-cornered), clockwise from top-left
    outline: list[list[float]]  # the rounded physical edge as a polygon
    inner: list[list[float]]  # the printed frame's four corners
    corners: dict[str, str] = field(default_factory=dict)  # corner → sharp | worn
    parts: list[tuple[str, list[list[float]]]] = field(default_factory=list)  # (class, polygon) for wear and defects

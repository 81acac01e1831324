"""What the Grade panel shows, without Tk: one graded card's report, its eight border lines per side as
the grader moves them, and the geometry of grabbing and dragging a line.

A drag is measured from where it began: each mouse position gives the grabbed line's new place from its
place at the press, and `apply_correction` recomputes centering, bands and the overall estimate from the
eight lines (cheap: no model, no photo). A position where the lines no longer make a card leaves the
report as it was and says why."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from cardgrader.errors import UserError
from cardgrader.grading.centering import LINE_NAMES
from cardgrader.grading.grade import apply_correction

Line = tuple[tuple[float, float], tuple[float, float]]
COMPANIES = ("psa", "bgs", "cgc")
CATEGORIES = ("corners", "edges", "surface")
END_SHARE = 0.25  # grabbing a line this close to an end (as a share of its length) tilts it about the other end


def split(share: float) -> str:
    """55.2 → '55.2/44.8'."""
    return f"{share:.1f}/{100 - share:.1f}"


@dataclass
class Grab:
    """A line held by the mouse: which one, which part (`line` moves it parallel, `start`/`end` tilts it
    about its other end), where it was and where the press was (photo pixels)."""

    side: str
    name: str
    part: str
    line: np.ndarray  # (2, 2): the line at the press
    press: np.ndarray  # (2,)
    before: dict[str, Any]  # the side's centering, the sub-grades and the estimate at the press, to go back to


def distance_to_segment(point: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The distance from `point` to the segment a→b, and where along it (0 at a, 1 at b) it is nearest."""
    ab = b - a
    length2 = float(ab @ ab)
    t = 0.0 if length2 == 0 else float(np.clip((point - a) @ ab / length2, 0.0, 1.0))
    return float(np.linalg.norm(point - (a + t * ab))), t


def moved(line: np.ndarray, part: str, delta: np.ndarray) -> np.ndarray:
    """The line after the mouse moved by `delta` (photo pixels): the whole line, or one end, moves across
    the line's direction only (a move along a line changes nothing about it)."""
    direction = line[1] - line[0]
    normal = np.array([-direction[1], direction[0]]) / max(1e-9, float(np.linalg.norm(direction)))
    shift = normal * float(delta @ normal)
    out = line.copy()
    if part in ("line", "start"):
        out[0] += shift
    if part in ("line", "end"):
        out[1] += shift
    return out


class GradedCard:
    """One card's report as graded, and as corrected since."""

    def __init__(self, report: dict[str, Any]):
        self.report = report
        self.original = copy.deepcopy(report)
        self.saved_to: str | None = None  # where the report was last saved
        self.labels_saved_to: str | None = None  # where its lines were last saved as training labels
        self.changed_since_save = True
        self.problem: str | None = None  # why the last drag position could not be measured

    @property
    def sides(self) -> list[str]:
        return [side for side in ("front", "back") if self.report.get(side)]

    def photo(self, side: str) -> str:
        return str(self.report[side]["image"])

    def centering(self, side: str) -> dict[str, Any] | None:
        """The side's centering as reported (`lr`, `tb`, … `lines`, `manual`) or {"error": sentence}."""
        return (self.report.get(side) or {}).get("centering")

    def lines(self, side: str) -> dict[str, np.ndarray] | None:
        centering = self.centering(side) or {}
        if "lines" not in centering:
            return None
        return {name: np.asarray(centering["lines"][name], dtype=np.float64) for name in LINE_NAMES}

    @property
    def manual(self) -> dict[str, list[str]]:
        return {side: list((self.centering(side) or {}).get("manual") or []) for side in self.sides}

    # ---- dragging ------------------------------------------------------------------------------------
    def candidates(self, side: str, point, tolerance: float) -> list[tuple[float, str, str]]:
        """Lines within `tolerance` (photo pixels) of `point`, nearest first: (distance, name, part)."""
        lines = self.lines(side) or {}
        point = np.asarray(point, dtype=np.float64)
        found = []
        for name, (a, b) in lines.items():
            distance, t = distance_to_segment(point, a, b)
            if distance <= tolerance:
                part = "start" if t < END_SHARE else "end" if t > 1 - END_SHARE else "line"
                found.append((distance, name, part))
        return sorted(found)

    def grab(self, side: str, name: str, part: str, point) -> Grab:
        lines = self.lines(side)
        before = {"centering": self.centering(side), "subgrades": self.report.get("subgrades"),
                  "overall": self.report.get("overall")}
        return Grab(side, name, part, lines[name].copy(), np.asarray(point, dtype=np.float64), copy.deepcopy(before))

    def drag(self, grab: Grab, point) -> np.ndarray:
        """Move the grabbed line with the mouse at `point`; returns where the line is drawn. The numbers
        follow when the eight lines still make a card; otherwise `problem` says why and they stay."""
        line = moved(grab.line, grab.part, np.asarray(point, dtype=np.float64) - grab.press)
        lines = {name: value.tolist() for name, value in self.lines(grab.side).items()}
        lines[grab.name] = line.tolist()
        try:
            apply_correction(self.report, grab.side, lines, [grab.name])
        except UserError as exc:
            self.problem = str(exc)
            return line
        self.problem = None
        self.changed_since_save = True
        return self.lines(grab.side)[grab.name]

    def release(self, grab: Grab) -> str | None:
        """The mouse let go: the lines stay where they last made a card; returns why the last position
        made none (the held line then went back), or None."""
        problem, self.problem = self.problem, None
        return problem

    def cancel(self, grab: Grab) -> None:
        """Escape during a drag: the card goes back to exactly how it was at the press."""
        before = copy.deepcopy(grab.before)
        self.report[grab.side]["centering"] = before["centering"]
        self.report["subgrades"], self.report["overall"] = before["subgrades"], before["overall"]
        self.problem = None

    def reset(self) -> None:
        """Every line back where the models put it."""
        self.report.clear()
        self.report.update(copy.deepcopy(self.original))
        self.problem = None
        self.changed_since_save = True

    @property
    def corrected(self) -> bool:
        return any(self.manual.values())

    # ---- what the panel prints -------------------------------------------------------------------------
    def band(self, category: str, company: str) -> dict[str, Any]:
        """A sub-grade for one company: centering's published band, or a finding category's estimate."""
        entry = (self.report.get("subgrades") or {}).get(category) or {}
        if category == "centering":
            return entry.get(company) or {}
        return (entry.get("by_company") or {}).get(company) or entry

    def overall(self, company: str) -> dict[str, Any]:
        return (self.report.get("overall") or {}).get(company) or {}

    def findings(self, category: str) -> list[dict[str, Any]] | None:
        """The front's findings of a category (None: no model assessed it)."""
        return ((self.report.get("front") or {}).get("findings") or {}).get(category)

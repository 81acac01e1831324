"""What every kind of `ps validate` comes to: a model's detections against what photometric stereo shows,
counted one way whatever the kind (a surface defect, the card's outline, a worn corner, a damaged edge).

A detection is supported when some piece of evidence describes the same thing by the kind's rule
(`matching`); a piece of evidence is found when some detection does. Precision is the share of supported
detections, recall the share of found evidence; each is None when there is nothing to share out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cardgrader.models.predict import Detection
from cardgrader.photometric.matching import Rule, match, same_defect, support


@dataclass
class Evidence:
    """One thing photometric stereo shows: its box (x0, y0, x1, y1 inclusive), a short label, and its record."""

    box: list[int]
    label: str
    record: dict[str, Any]


@dataclass
class Comparison:
    kind: str  # surface | border | corners | edges
    evidence_name: tuple[str, str]  # what the evidence is, one and many: ("defect region", "defect regions")
    detections: list[Detection]  # the detections assessed
    evidence: list[Evidence]
    supported: list[bool]  # per detection
    found: list[bool]  # per piece of evidence
    pairs: list[tuple[int, int]]  # (detection, evidence), one to one
    definitions: dict[str, str]
    kind_agreement: float | None = None
    not_assessed: list[Detection] = field(default_factory=list)  # detections PS cannot check
    not_assessed_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # the kind's own report fields
    detections_name: str = "detections"  # what the assessed detections are: "outer_border detections", ...
    notes: list[str] = field(default_factory=list)  # the kind's own lines for the summary

    @property
    def precision(self) -> float | None:
        return None if not self.detections else round(sum(self.supported) / len(self.detections), 4)

    @property
    def recall(self) -> float | None:
        return None if not self.evidence else round(sum(self.found) / len(self.evidence), 4)

    def report(self) -> dict[str, Any]:
        """The report fields every kind shares (the names `ps validate --json` has always printed)."""
        d, e = self.detections, self.evidence
        fields: dict[str, Any] = {
            "kind": self.kind,
            "evidence": self.evidence_name[1],
            "ps_regions": len(e),
            "detections": len(d),
            "supported_detections": sum(self.supported),
            "found_regions": sum(self.found),
            "precision": self.precision,
            "recall": self.recall,
            "kind_agreement": self.kind_agreement,
            "pairs": [{"detection": d[i].to_json(), "region": e[j].record} for i, j in self.pairs],
            "missed_regions": [x.record for x, ok in zip(e, self.found) if not ok],
            "unsupported_detections": [x.to_json() for x, ok in zip(d, self.supported) if not ok],
        }
        if self.not_assessed_reason:
            fields["not_assessed"] = {"detections": [x.to_json() for x in self.not_assessed],
                                      "reason": self.not_assessed_reason}
        return {**fields, **self.extra, "definitions": self.definitions}

    def summary(self, model_name: str, model_input: str) -> list[str]:
        """A few lines for a person: what was compared, the two shares, then the kind's own notes."""
        def share(value: float | None) -> str:
            return "n/a" if value is None else f"{value * 100:.0f}%"

        one, many = self.evidence_name
        found = f"{len(self.evidence)} {one if len(self.evidence) == 1 else many}"
        lines = [
            (f"Model '{model_name}' ({self.kind}) on {model_input}: {len(self.detections)} {self.detections_name}; "
             f"photometric stereo found {found}."),
            (f"Precision {share(self.precision)} (detections PS supports), recall {share(self.recall)} "
             f"({many} the model found); {self.found.count(False)} missed, {self.supported.count(False)} unsupported."),
            *self.notes,
        ]
        if self.not_assessed:
            names = sorted({d.class_name for d in self.not_assessed})
            count = f"{len(self.not_assessed)} {'detection' if len(self.not_assessed) == 1 else 'detections'}"
            lines.append(f"Not assessed: {count} ({', '.join(names)}). {self.not_assessed_reason}")
        return lines


def compare(kind: str, evidence_name: str, detections: Sequence[Detection], evidence: Sequence[Evidence],
            definitions: dict[str, str], rule: Rule = same_defect, **rest: Any) -> Comparison:
    """Count supported detections and found evidence by `rule`; `rest` fills the Comparison's other fields."""
    boxes, evidence_boxes = [x.box for x in detections], [x.box for x in evidence]
    supported, found = support(boxes, evidence_boxes, rule)
    pairs = match(boxes, evidence_boxes, rule).pairs
    return Comparison(kind, evidence_name, list(detections), list(evidence), supported, found, pairs, definitions,
                      **rest)

"""A check report as text for a terminal (or the GUI's "copy report"): sources and why, counts, the
quality score with its parts, findings grouped by kind, and recommendations."""

from __future__ import annotations

from collections import defaultdict

from cardgrader.data.model import ERROR, INFO, WARNING, CheckReport, Finding

HEADINGS = {ERROR: "Errors (left out of training until fixed)", WARNING: "Warnings", INFO: "Notes"}


def _counts(mapping: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in mapping.items()) or "none"


def format_text(report: CheckReport, per_kind: int = 5) -> str:
    lines = []
    for source in report.sources:
        lines.append(f"Source {source.path}")
        lines.append(f"  format  {source.title}" + (f" — {source.reason}" if source.reason else ""))
        if source.names:
            lines.append(f"  classes {', '.join(source.names)}")
    c = report.counts
    lines.append(f"Images  {c['images']} ({c['usable']} usable, {c['labelled']} labelled, {c['backgrounds']} "
                 f"backgrounds, {c['duplicates']} duplicates, {c['non_image_files']} other files ignored)")
    kept = sum(c["classes"].values())
    scope = f"{kept} for {report.task}" if report.task else str(kept)
    lines.append(f"Labels  {scope}: {_counts(c['classes'])}" +
                 (f" · left out: {_counts(c['left_out_classes'])}" if c["left_out_classes"] else ""))
    lines.append(f"Sides   {_counts(c['sides'])} · splits {_counts(c['splits'])}")
    if report.quality.score is None:
        lines.append("Quality none: there is no card photo to score")
    else:
        parts = ", ".join(f"{name} {comp.score:.0f}" for name, comp in report.quality.components.items())
        lines.append(f"Quality {report.quality.score}/100 ({parts})")
    for severity in (ERROR, WARNING, INFO):
        found = [f for f in report.findings if f.severity == severity]
        if found:
            lines.append(f"{HEADINGS[severity]}: {len(found)}")
            lines += _grouped(found, per_kind)
    lines.append("Recommendations")
    lines += [f"  - {r}" for r in report.recommendations]
    return "\n".join(lines)


def _splits(finding: Finding) -> str:
    """` (train, val)` when the file is in more than one split, which its path cannot say (a finding about
    exactly that names them already)."""
    if len(finding.splits) < 2 or finding.code == "listed_in_several_splits":
        return ""
    return f" ({', '.join(finding.splits)})"


def _grouped(findings: list[Finding], per_kind: int) -> list[str]:
    """At most `per_kind` findings of each kind, then how many more there are like them."""
    by_code: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_code[finding.code].append(finding)
    lines = []
    for same in by_code.values():
        lines += [f"  {f.message}{_splits(f)}" for f in same[:per_kind]]
        if len(same) > per_kind:
            lines.append(f"  … and {len(same) - per_kind} more like this ({same[0].code}); --json lists them all.")
    return lines

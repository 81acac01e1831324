"""The grade report of one card: `report.json` and a self-contained, print-friendly `report.html`.

The HTML embeds its pictures as data URIs, so it opens offline in any browser and can be mailed as one
file. Every string it embeds (file names, class names, model names, notes) is escaped: a photo named
`<img src=x onerror=alert(1)>.jpg` shows as that text.
"""

from __future__ import annotations

import base64
import csv
import html
import json
from pathlib import Path
from typing import Any, Iterable

import cv2
import numpy as np

from cardgrader import __version__

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d1d1f;max-width:1100px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:24px 0 8px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:6px 0} td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:13px}
th{background:#f2f2f2} .muted{color:#666;font-size:12px} .estimate{color:#8a5a00}
img.overlay{max-width:100%;border:1px solid #ccc} img.crop{height:96px;border:1px solid #ccc;margin:2px}
.limit{font-weight:600} @media print{body{margin:8mm} h2{break-after:avoid} img.overlay{max-height:120mm}}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def data_uri(image_bgr: np.ndarray, max_side: int = 1400) -> str:
    h, w = image_bgr.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale < 1.0:
        image_bgr = cv2.resize(image_bgr, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".png", image_bgr)
    if not ok:
        raise ValueError("could not encode an image for the report")
    return "data:image/png;base64," + base64.b64encode(encoded.tobytes()).decode("ascii")


def crop(image_bgr: np.ndarray, box: Iterable[float], pad: float = 0.15) -> np.ndarray:
    x0, y0, x1, y1 = [float(v) for v in box]
    w, h = x1 - x0, y1 - y0
    h_img, w_img = image_bgr.shape[:2]
    a = (max(0, int(x0 - pad * w)), max(0, int(y0 - pad * h)))
    b = (min(w_img, int(x1 + pad * w) + 1), min(h_img, int(y1 + pad * h) + 1))
    return image_bgr[a[1]:b[1], a[0]:b[0]] if b[0] > a[0] and b[1] > a[1] else image_bgr[:1, :1]


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _side_html(side: str, info: dict[str, Any], pictures: dict[str, str]) -> str:
    parts = [f"<h2>{_e(side.title())}: {_e(Path(info['image']).name)}</h2>"]
    centering = info.get("centering")
    if centering and "error" not in centering:
        if pictures.get(f"{side}_overlay"):
            parts.append(f'<img class="overlay" alt="centering overlay" src="{pictures[side + "_overlay"]}">')
        w = centering["borders_px"]
        parts.append(_table(["", "left / right", "top / bottom"], [
            ["centering (mean)", f"{centering['lr']:.1f} / {100 - centering['lr']:.1f}",
             f"{centering['tb']:.1f} / {100 - centering['tb']:.1f}"],
            ["worst point", f"{centering['lr_worst']:.1f}", f"{centering['tb_worst']:.1f}"],
            ["border widths (px)", f"{w['left']:.1f} / {w['right']:.1f}", f"{w['top']:.1f} / {w['bottom']:.1f}"],
        ]))
        parts.append(f'<p class="muted">Card rotation {centering["angle_deg"]:.2f}°; lines '
                     f'{"refined to sub-pixel edges" if centering.get("refined") else "from the model only"}'
                     f'{"; corrected by hand: " + _e(", ".join(centering["manual"])) if centering.get("manual") else ""}.</p>')
    elif centering:
        parts.append(f"<p>Centering not measured: {_e(centering['error'])}</p>")
    for category in ("corners", "edges", "surface"):
        findings = info.get("findings", {}).get(category)
        if findings is None:
            continue
        if not findings:
            parts.append(f"<p><b>{_e(category.title())}</b>: nothing found above the threshold.</p>")
            continue
        crops = "".join(f'<img class="crop" alt="{_e(f["class"])}" title="{_e(f["class"])} {f["confidence"]:.2f}" '
                        f'src="{pictures[f["crop_key"]]}">' for f in findings if f.get("crop_key") in pictures)
        parts.append(f"<p><b>{_e(category.title())}</b></p>" + _table(
            ["class", "confidence", "box (px)"],
            [[f["class"], f"{f['confidence']:.2f}", ", ".join(f"{v:.0f}" for v in f["box"])] for f in findings]) + crops)
    return "\n".join(parts)


def render_html(report: dict[str, Any], pictures: dict[str, str]) -> str:
    title = f"Grade report: {report['card']}"
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{_e(title)}</title>"
             f"<style>{CSS}</style></head><body>", f"<h1>{_e(title)}</h1>",
             f'<p class="muted">cardgrader {_e(__version__)}, {_e(report["created"])}. Models: '
             f'{_e(", ".join(f"{k}: {v}" for k, v in report["models"].items()) or "none")}.</p>']
    overall = report["overall"]
    rows = [[company.upper(), o.get("grade") or "-", o.get("label") or "", o.get("limited_by") or ""]
            for company, o in overall.items()]
    parts.append("<h2>Estimate</h2>" + _table(["company", "grade", "", "limited by"], rows))
    parts.append('<p class="estimate">Centering bands come from the companies\' published tables. Corners, edges and '
                 'surface are estimates from the models\' findings and an editable rules table; only the grading '
                 'company gives a grade.</p>')
    sub_rows = []
    for category, entry in report["subgrades"].items():
        if category == "centering":
            for company, band in entry.items():
                sub_rows.append([f"centering ({company.upper()})", band.get("grade") or "-", band.get("limited_by") or "",
                                 "published table"])
        else:
            sub_rows.append([category, entry.get("grade") or "not assessed", entry.get("reason") or "",
                             "estimate" if entry.get("estimate") else ""])
    parts.append("<h2>Sub-grades</h2>" + _table(["category", "grade", "why", "basis"], sub_rows))
    for side in ("front", "back"):
        if report.get(side):
            parts.append(_side_html(side, report[side], pictures))
    ps = report.get("photometric")
    if ps:
        surface = ps.get("surface", {})
        parts.append("<h2>Photometric stereo (front surface)</h2>")
        if pictures.get("ps_defects"):
            parts.append(f'<img class="overlay" alt="defect map" src="{pictures["ps_defects"]}">')
        parts.append(_table(["", ""], [["capture", ps.get("capture")],
                                       ["surface integrity", surface.get("integrity_score")],
                                       ["defect regions", len(surface.get("regions", []))]]))
    for note in report.get("notes", []):
        parts.append(f'<p class="muted">{_e(note)}</p>')
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(report: dict[str, Any], pictures: dict[str, str], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / "report.json", out / "report.html"
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    html_path.write_text(render_html(report, pictures), encoding="utf-8")
    return json_path, html_path


def write_summary(rows: list[dict[str, Any]], path: Path) -> Path:
    """One line per card of a folder run: where its report is and the estimates (or why it failed)."""
    fields = ["card", "front", "back", "lr", "tb", "psa", "bgs", "cgc", "report", "error"]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path

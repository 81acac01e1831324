"""The photometric defect map on printed cards: does it find the planted damage, and only that?

Each case renders warped cards with three planted dents (from small and shallow, a radius of 2 % of
the short side and a tenth of that deep, to large and deep) and two scratches (`synthetic.card`) under one
printed face (`synthetic.printed_face`: the plain panels, a dark-ink checkerboard, lines of text, a
halftone photo, a holographic foil window), one sensor noise level (standard deviation in the 0-1 image
range) and one lamp rig:

- high: 8 lamps at 45 degrees and 4 near the camera at 75 (which make the foil glint);
- low: 8 raking lamps at 15 degrees, whose long shadows fill the dents, and the same 4 at 75.

Both solvers (`analyse(..., method="l2" | "robust")`) map the defects; a region that overlaps a planted
defect (`matching.match`: IoU >= 0.2, or the smaller box half inside the larger) found it. Printed per
case and method: precision (found regions that are planted defects), recall (planted defects found),
and the false regions. A second table gives the surface-integrity score and the region count of the
same faces with no damage at all. Target: recall >= 0.8 at precision >= 0.5 for `robust` on every case
up to 1 % noise, and an undamaged card >= 95 with no regions.

    python bench/ps_defects.py [--height 560 --width 400] [--cards 2] [--seed 0] [--artworks checker,text]
        [--work-side 200]   (the defects on 2 x 2 pixel means, as a capture of 2000 px or more gets them)
"""

from __future__ import annotations

import argparse
import time

import numpy as np

NOISES = (0.0, 0.005, 0.01, 0.02)
METHODS = ("l2", "robust")
DENT_RADIUS = (0.02, 0.08)  # shares of the card's short side
DENT_DEPTH = (0.1, 0.4)  # shares of the dent's radius


def rigs() -> dict[str, np.ndarray]:
    from cardgrader.photometric import synthetic

    near_axis = synthetic.ring_lights(4, 75, 55)
    return {"high": np.vstack([synthetic.ring_lights(8, 45, 10), near_axis]),
            "low": np.vstack([synthetic.ring_lights(8, 15, 10), near_axis])}


SETTINGS = {}  # DefectSettings fields from the command line (--work-side)


def analyse_card(card, lights: np.ndarray, noise: float, seed: int) -> dict:
    """{method: Analysis} of one rendered capture of `card`."""
    from cardgrader.photometric import analyse, synthetic
    from cardgrader.photometric.defects import DefectSettings

    capture = synthetic.render(card.height, card.normals, card.mask, lights, albedo=card.albedo,
                               specular=card.specular, roughness=0.3, noise=noise, seed=seed)
    settings = DefectSettings(**SETTINGS)
    return {method: analyse(capture.images, capture.directions, method, defect_settings=settings)
            for method in METHODS}


def score_case(artwork: str, lights: np.ndarray, noise: float, size: tuple[int, int], cards: int, seed: int) -> dict:
    """{method: (planted, found, true)} summed over `cards` damaged cards."""
    from cardgrader.photometric import synthetic
    from cardgrader.photometric.matching import match

    totals = {m: [0, 0, 0] for m in METHODS}
    for k in range(cards):
        card_seed = seed + 1000 * k + 7
        card = synthetic.card(*size, dents=3, scratches=2, seed=card_seed, artwork=artwork, dent_radius=DENT_RADIUS,
                              dent_depth=DENT_DEPTH)
        for method, analysis in analyse_card(card, lights, noise, card_seed + 1).items():
            regions = analysis.defects.regions
            pairing = match([d.bbox for d in card.defects], [r.bbox for r in regions])
            totals[method][0] += len(card.defects)
            totals[method][1] += len(regions)
            totals[method][2] += len(pairing.pairs)
    return {m: tuple(v) for m, v in totals.items()}


def flat_case(artwork: str, lights: np.ndarray, noise: float, size: tuple[int, int], seed: int) -> dict:
    """{method: (integrity, regions)} of an undamaged card."""
    from cardgrader.photometric import synthetic

    card = synthetic.card(*size, dents=0, scratches=0, seed=seed + 5, artwork=artwork)
    return {m: (a.defects.integrity, len(a.defects.regions)) for m, a in analyse_card(card, lights, noise, seed + 6).items()}


def main() -> None:
    from cardgrader.photometric import synthetic
    from cardgrader.photometric.defects import DefectSettings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--height", type=int, default=560)
    parser.add_argument("--width", type=int, default=400)
    parser.add_argument("--cards", type=int, default=2, help="damaged cards per case (different seeds)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--artworks", default=",".join(synthetic.ARTWORKS))
    parser.add_argument("--work-side", type=int, help="map defects on k x k pixel means from a short side of 2 x "
                        "this (DefectSettings.work_side; e.g. 200 at 400 px: what a 2000 px capture gets)")
    args = parser.parse_args()
    if args.work_side is not None:
        SETTINGS["work_side"] = args.work_side
    size = (args.height, args.width)
    artworks = args.artworks.split(",")
    start = time.perf_counter()
    factor = DefectSettings(**SETTINGS).factor(*size)
    print(f"{args.cards} cards of {args.width}x{args.height} per case, 3 dents + 2 scratches each"
          + (f", mapped on {factor} x {factor} pixel means" if factor > 1 else "")
          + "; P precision, R recall, false: regions that are no planted defect")
    print(f"{'artwork':9s} {'lamps':5s} {'noise':>5s}  " + "  ".join(f"{m + ' P':>9s} {'R':>5s} {'false':>5s}" for m in METHODS)
          + "  target")
    misses = []
    for artwork in artworks:
        for rig, lights in rigs().items():
            for noise in NOISES:
                row = score_case(artwork, lights, noise, size, args.cards, args.seed)
                cells = []
                for method in METHODS:
                    planted, found, true = row[method]
                    precision, recall = true / max(found, 1), true / max(planted, 1)
                    cells.append(f"{precision:11.2f} {recall:5.2f} {found - true:5d}")
                planted, found, true = row["robust"]
                ok = true / max(planted, 1) >= 0.8 and true / max(found, 1) >= 0.5
                verdict = "ok" if ok else ("MISS" if noise <= 0.01 else "-")
                if verdict == "MISS":
                    misses.append(f"{artwork}/{rig}/{noise:g}")
                print(f"{artwork:9s} {rig:5s} {100 * noise:4.1f}%  " + "  ".join(cells) + f"  {verdict}", flush=True)
    print()
    print("undamaged cards: integrity / regions per method")
    print(f"{'artwork':9s} {'lamps':5s} " + " ".join(f"{f'{100 * n:.1f}% ' + m:>14s}" for n in NOISES for m in METHODS))
    flat_low = []
    for artwork in artworks:
        for rig, lights in rigs().items():
            cells = []
            for noise in NOISES:
                for method, (integrity, count) in flat_case(artwork, lights, noise, size, args.seed).items():
                    cells.append(f"{integrity:10.1f} / {count:1d}")
                    if noise <= 0.01 and (integrity < 95 or count):
                        flat_low.append(f"{artwork}/{rig}/{noise:g}/{method}")
            print(f"{artwork:9s} {rig:5s} " + " ".join(cells), flush=True)
    print()
    print(f"robust cases up to 1 % noise below target: {', '.join(misses) or 'none'}; undamaged cards up to 1 % "
          f"below 95 or with regions: {', '.join(flat_low) or 'none'} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()

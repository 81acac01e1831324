"""Draw the app icon into assets/: a card with its printed frame and centering marks.

    .venv/bin/python scripts/make_icons.py

Writes cardgrader.png (512 px, Linux and the window icon), cardgrader.ico (16-256 px, Windows) and
cardgrader.icns (16-1024 px, macOS). Drawn at 1024 px and scaled down, so each size is anti-aliased.
The files are committed; run this again only to change the design.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ASSETS = Path(__file__).resolve().parents[1] / "assets"
BLUE, AMBER, PAPER, INK = (31, 106, 165), (255, 176, 32), (246, 244, 238), (24, 38, 56)


def draw(size: int = 1024) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(image)
    s = size / 1024
    # The card: portrait, rounded corners, on a transparent square (a 63 x 88 mm card is 0.716 wide).
    card = (int(222 * s), int(80 * s), int(802 * s), int(944 * s))
    d.rounded_rectangle(card, radius=int(56 * s), fill=PAPER, outline=INK, width=max(1, int(22 * s)))
    # The printed frame, a little off centre, as cards are.
    frame = (int(296 * s), int(150 * s), int(744 * s), int(860 * s))
    d.rectangle(frame, fill=BLUE)
    # Centering marks: the card's own centre lines, in amber.
    cx, cy = (card[0] + card[2]) / 2, (card[1] + card[3]) / 2
    w = max(1, int(26 * s))
    d.line([(cx, card[1] + 40 * s), (cx, card[3] - 40 * s)], fill=AMBER, width=w)
    d.line([(card[0] + 40 * s, cy), (card[2] - 40 * s, cy)], fill=AMBER, width=w)
    r = 70 * s
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=AMBER, width=w)
    return image


def main() -> None:
    ASSETS.mkdir(exist_ok=True)
    big = draw(1024)
    big.resize((512, 512), Image.LANCZOS).save(ASSETS / "cardgrader.png", optimize=True)
    ico_sizes = [(n, n) for n in (16, 24, 32, 48, 64, 128, 256)]
    big.save(ASSETS / "cardgrader.ico", sizes=ico_sizes)
    big.save(ASSETS / "cardgrader.icns")
    for name in ("cardgrader.png", "cardgrader.ico", "cardgrader.icns"):
        print(f"{ASSETS / name}: {(ASSETS / name).stat().st_size} bytes")


if __name__ == "__main__":
    main()

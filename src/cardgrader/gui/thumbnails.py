"""Thumbnails of card photos with their labels drawn on top (boxes, polygons, oriented boxes), in class
colours. Rendering is plain PIL and runs on a worker thread; only the finished images reach Tk."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageOps

from cardgrader.gui.theme import class_color

THUMB = (168, 168)


def _hex_to_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return tuple(int(value[i:i + 2], 16) for i in (0, 2, 4))


def render(item, class_names: list[str], label_for=lambda name: name, size: tuple[int, int] = THUMB) -> Image.Image:
    """The image of `item` (a data.model.ImageItem) shrunk to fit `size`, with every shape outlined.

    `label_for(source_label)` gives the class a shape becomes (None: left out, drawn dashed grey)."""
    try:
        with Image.open(item.image) as opened:
            opened.draft("RGB", (size[0] * 2, size[1] * 2))  # JPEGs decode at a reduced size: fast
            image = opened.convert("RGB")
    except Exception:  # noqa: BLE001 - unreadable files get a placeholder, their finding says why
        image = Image.new("RGB", size, (60, 60, 60))
        ImageDraw.Draw(image).text((10, size[1] // 2 - 6), "cannot read", fill=(230, 120, 120))
        return image
    width, height = image.size
    scale = min(size[0] / width, size[1] / height)
    image = image.resize((max(1, int(width * scale)), max(1, int(height * scale))), Image.BILINEAR)
    draw = ImageDraw.Draw(image)
    for shape in item.shapes:
        target = label_for(shape.label)
        points = [(x * image.width, y * image.height) for x, y in shape.points]
        if len(points) < 2:
            continue
        if target is None:
            color = (150, 150, 150)
        else:
            index = class_names.index(target) if target in class_names else len(class_names)
            color = _hex_to_rgb(class_color(target, index))
        draw.line(points + [points[0]], fill=color, width=2)
    return ImageOps.pad(image, size, color=(32, 32, 32))

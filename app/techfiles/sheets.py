"""The category sheet: every product of a category on one page — main view, name, SKU, key attributes.

Pure drawing (Pillow): the caller gathers the entries; the same entries give the same picture,
so a sheet is only made again when a product, its main view or its data changed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from app.core import fonts
from app.techfiles.generators import Rendered, flatten, measure_quality

WIDTH, HEIGHT, MARGIN = 2000, 1414, 60  # A4 landscape proportions
COLUMNS, ROWS = 6, 4
MAX_PRODUCTS = COLUMNS * ROWS
SHEET_VERSION = "sheet-1"


@dataclass(frozen=True)
class Entry:
    product_id: int
    name: str
    sku: str
    attributes: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (label, value), shown in order
    image_path: str | None = None  # its main view (a base view, else its first photo)


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def _cell(canvas: Image.Image, draw: ImageDraw.ImageDraw, entry: Entry, x: int, y: int, w: int, h: int) -> None:
    draw.rectangle((x, y, x + w, y + h), outline=(210, 214, 222), width=2)
    side = min(w - 20, h - 150)
    if entry.image_path:
        with Image.open(entry.image_path) as im:
            thumb = flatten(im)
            thumb.thumbnail((side, side), Image.Resampling.LANCZOS)
            canvas.paste(thumb, (x + (w - thumb.width) // 2, y + 10 + (side - thumb.height) // 2))
    else:
        draw.text((x + w // 2, y + 10 + side // 2), "no picture", fill=(150, 150, 150),
                  font=fonts.pil_font(22), anchor="mm")
    bold, small = fonts.pil_font(24), fonts.pil_font(19)
    ty = y + side + 18
    draw.text((x + 10, ty), _fit(draw, entry.name, bold, w - 20), fill=(20, 20, 20), font=bold)
    draw.text((x + 10, ty + 32), _fit(draw, f"SKU {entry.sku or '—'}", small, w - 20), fill=(60, 60, 60), font=small)
    for n, (label, value) in enumerate(entry.attributes[:3]):
        draw.text((x + 10, ty + 58 + n * 24), _fit(draw, f"{label}: {value}", small, w - 20),
                  fill=(90, 90, 90), font=small)


def category_sheet(category: str, entries: list[Entry]) -> Rendered:
    """One page: a grid of up to MAX_PRODUCTS products (the rest counted at the foot)."""
    canvas = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(canvas)
    title = fonts.pil_font(44)
    draw.text((MARGIN, MARGIN), _fit(draw, f"Category: {category}", title, WIDTH - 2 * MARGIN - 300),
              fill=(10, 10, 10), font=title)
    draw.text((WIDTH - MARGIN, MARGIN + 10), f"{len(entries)} product{'s' if len(entries) != 1 else ''}",
              fill=(90, 90, 90), font=fonts.pil_font(28), anchor="ra")
    top = MARGIN + 80
    cell_w = (WIDTH - 2 * MARGIN) // COLUMNS
    cell_h = (HEIGHT - top - MARGIN - 30) // ROWS
    shown = entries[:MAX_PRODUCTS]
    for i, entry in enumerate(shown):
        _cell(canvas, draw, entry, MARGIN + (i % COLUMNS) * cell_w + 6, top + (i // COLUMNS) * cell_h + 6,
              cell_w - 12, cell_h - 12)
    if len(entries) > len(shown):
        draw.text((MARGIN, HEIGHT - MARGIN), f"{len(entries) - len(shown)} more products are not shown.",
                  fill=(150, 30, 30), font=fonts.pil_font(24), anchor="ld")
    score, quality = measure_quality(canvas)
    return Rendered(canvas, "PNG", quality=score, category=category,
                    analysis={"quality": quality, "products": [e.product_id for e in entries],
                              "shown": len(shown)},
                    meta={"sheet": [WIDTH, HEIGHT], "columns": COLUMNS, "rows": ROWS},
                    parameters={}, generator="stockroom.category_sheet", model=SHEET_VERSION)

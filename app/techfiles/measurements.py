"""Where things are and how long they are: shot names, photo ↔ file coordinates, derived lengths.

Pure functions on plain numbers. A base view and a sketch are both the photo's object cropped
(`crop_box`, photo pixels), scaled and centred on a square canvas; their metadata records how,
so a point can go from one to the photo and from the photo to the other. A person's one known
length on the base view (the scale reference) gives units per photo pixel; the sketch's
measurement lines are the object's width and height in photo pixels times that.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

DERIVED_NOTE = "derived from the reference length"
UNITS = ("mm", "cm", "m", "in")


# --- shot names ---------------------------------------------------------------------------------

def position_name(region: dict, box: tuple | list) -> str:
    """Where a region sits on the object, in words: "upper left", "centre", "lower right"…"""
    left, top, right, bottom = box
    cx = (region["x"] + region["w"] / 2 - left) / max(1, right - left)
    cy = (region["y"] + region["h"] / 2 - top) / max(1, bottom - top)
    horizontal = "left" if cx < 1 / 3 else "right" if cx > 2 / 3 else "centre"
    vertical = "upper" if cy < 1 / 3 else "lower" if cy > 2 / 3 else "middle"
    if vertical == "middle":
        return "centre" if horizontal == "centre" else f"middle {horizontal}"
    return f"{vertical} {horizontal}"


def unique_names(names: list[str]) -> list[str]:
    """The same words twice become "upper left" and "upper left 2"."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return out


# --- coordinates --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Placement:
    """How a file shows the photo: photo point p → canvas point (p - crop origin) × scale + offset."""

    crop_left: float
    crop_top: float
    scale: float
    offset_x: float
    offset_y: float
    side: int

    @classmethod
    def of(cls, meta: dict) -> Placement | None:
        """From a base view's or sketch's metadata (None when it does not say)."""
        crop, scale, side = meta.get("crop_box"), meta.get("scale"), meta.get("canvas")
        if not crop or not scale or not side:
            return None
        w, h = (crop[2] - crop[0]) * scale, (crop[3] - crop[1]) * scale
        return cls(crop[0], crop[1], float(scale), (side - w) / 2, (side - h) / 2, int(side))

    def to_photo(self, x_pct: float, y_pct: float) -> tuple[float, float]:
        x, y = x_pct / 100 * self.side, y_pct / 100 * self.side
        return self.crop_left + (x - self.offset_x) / self.scale, self.crop_top + (y - self.offset_y) / self.scale

    def to_percent(self, x: float, y: float) -> tuple[float, float]:
        cx = (x - self.crop_left) * self.scale + self.offset_x
        cy = (y - self.crop_top) * self.scale + self.offset_y
        return round(max(0.0, min(100.0, 100 * cx / self.side)), 2), round(max(0.0, min(100.0, 100 * cy / self.side)), 2)


# --- lengths ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scale:
    """Units per photo pixel, from a known length."""

    per_pixel: Decimal
    unit: str
    source: str  # "Chain length 45 cm"

    @classmethod
    def from_reference(cls, ref: dict | None) -> Scale | None:
        if not ref:
            return None
        pixels = ((ref["x2"] - ref["x1"]) ** 2 + (ref["y2"] - ref["y1"]) ** 2) ** 0.5
        if pixels < 1:
            return None
        length = Decimal(str(ref["length"]))
        return cls(length / Decimal(str(pixels)), ref["unit"], f"{ref['label']} {length.normalize():f} {ref['unit']}")

    def length(self, pixels: float) -> str:
        value = (Decimal(str(pixels)) * self.per_pixel).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        return f"{value:f} {self.unit}"


def auto_measurements(box: list | tuple, placement: Placement, scale: Scale | None) -> list[dict]:
    """Width and height lines of the object on a sketch; numbers only when a scale is known."""
    left, top, right, bottom = box
    gap = 0.03 * max(right - left, bottom - top)
    lines = (("Width", (left, bottom + gap), (right, bottom + gap), right - left),
             ("Height", (right + gap, top), (right + gap, bottom), bottom - top))
    out = []
    for label, a, b, pixels in lines:
        (x1, y1), (x2, y2) = placement.to_percent(*a), placement.to_percent(*b)
        item = {"x1": x1, "y1": y1, "x2": x2, "y2": y2, "label": label, "value": "", "auto": True}
        if scale is not None:
            item.update(value=scale.length(pixels), derived=True, note=f"{DERIVED_NOTE} ({scale.source})")
        out.append(item)
    return out


def auto_callouts(regions: list[dict], names: list[str], placement: Placement) -> list[dict]:
    """A numbered callout at the centre of each close-up's region, named like the close-up."""
    out = []
    for region, name in zip(regions, names, strict=False):
        x, y = placement.to_percent(region["x"] + region["w"] / 2, region["y"] + region["h"] / 2)
        out.append({"x": x, "y": y, "text": name, "auto": True})
    return out

"""Offline generators: base views, close-ups and line sketches from product photos (Pillow + numpy).

Every function is deterministic and works on PIL images; what it measured goes into `analysis`,
how it was made into `parameters`, so a file can be explained and regenerated.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFilter, ImageOps

from app.analysis.image_quality import assess_quality
from app.core import fonts
from app.core.deferred import numpy as np  # loaded on first use: not in the web process
from app.techfiles.measurements import position_name, unique_names

GENERATOR_VERSION = "offline-2"  # 2: close-ups named by position, sketches measured
BASE_SIZES = (1000, 2000)
MAX_UPSCALE = 2.0
WORK_SIDE = 1000  # analysis resolution for object finding and edge maps
VIEWS = ("front", "back", "side", "top")

DEFAULTS = {
    "base_view": {"margin": 0.06, "threshold": None},
    "close_up": {"count": 2, "window": 0.34},
    "sketch": {"detail": 80, "min_cluster": 4},
}


@dataclass
class Rendered:
    """One generated image and everything measured while making it."""

    image: Image.Image
    format: str  # "JPEG" or "PNG"
    analysis: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    confidence: int | None = None
    quality: int | None = None
    category: str = ""
    generator: str | None = None  # set when something other than the offline generator made the image
    model: str | None = None

    def encode(self) -> bytes:
        out = io.BytesIO()
        if self.format == "JPEG":
            self.image.convert("RGB").save(out, "JPEG", quality=90, optimize=True)
        else:
            self.image.save(out, "PNG", optimize=True)
        return out.getvalue()

    @property
    def mime(self) -> str:
        return "image/jpeg" if self.format == "JPEG" else "image/png"


def view_for_position(position: int) -> str:
    """Photos carry no view label: upload order names them (first photo = front…)."""
    return VIEWS[position] if position < len(VIEWS) else f"detail-{position - len(VIEWS) + 1}"


def params_for(kind: str, given: dict | None) -> dict:
    """Defaults for a generator overlaid with the known keys the user set."""
    merged = dict(DEFAULTS[kind])
    for key, value in (given or {}).items():
        if key in merged and value not in (None, ""):
            merged[key] = value
    return merged


def flatten(image: Image.Image) -> Image.Image:
    """Upright RGB on white (transparent pixels become white)."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


# --- object finding ---------------------------------------------------------------------------

@dataclass
class ObjectBox:
    box: tuple[int, int, int, int]  # left, top, right, bottom in source pixels
    confidence: int
    found: bool
    details: dict


def find_object(image: Image.Image, threshold: float | None = None) -> ObjectBox:
    """The object's bounding box against a background estimated from the photo's borders."""
    scale = min(1.0, WORK_SIDE / max(image.size))
    small = image if scale == 1.0 else image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.BOX)
    px = np.asarray(small.convert("RGB"), dtype=np.float32)
    h, w = px.shape[:2]
    band = max(1, round(min(h, w) * 0.04))
    border = np.concatenate([px[:band].reshape(-1, 3), px[-band:].reshape(-1, 3),
                             px[:, :band].reshape(-1, 3), px[:, -band:].reshape(-1, 3)])
    bg = np.median(border, axis=0)
    border_dist = np.linalg.norm(border - bg, axis=1)
    # Median absolute deviation: robust to a few objects cut by the photo's edge.
    spread = float(np.median(border_dist))
    thr = float(threshold) if threshold else max(30.0, 4.0 * spread)
    dist = np.linalg.norm(px - bg, axis=2)
    mask = Image.fromarray(((dist > thr) * 255).astype(np.uint8))
    # Opening removes specks and texture noise; closing joins the object's parts.
    mask = mask.filter(ImageFilter.MinFilter(3)).filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.MinFilter(3))
    fg = np.asarray(mask) > 0
    share = float(fg.mean())
    details = {"background_rgb": [round(float(c)) for c in bg], "threshold": round(thr, 1),
               "border_spread": round(spread, 1), "foreground_share": round(share, 4),
               "analysis_size": [w, h], "method": "border background distance + morphology"}
    if share < 0.005 or share > 0.97:
        details["note"] = "no object stands out from the background; the whole photo is used"
        return ObjectBox((0, 0, image.width, image.height), 0, False, details)
    ys, xs = np.nonzero(fg)
    # Percentiles, not min/max, so a few stray pixels at the edges do not widen the box.
    left, right = np.percentile(xs, [0.5, 99.5])
    top, bottom = np.percentile(ys, [0.5, 99.5])
    inside, outside = dist[fg], dist[~fg]
    separation = (inside.mean() - outside.mean()) / (inside.std() + outside.std() + 1e-6)
    touching = float(np.mean([fg[0].mean(), fg[-1].mean(), fg[:, 0].mean(), fg[:, -1].mean()]))
    confidence = int(round(100 * min(1.0, separation / 2.0) * (1.0 - touching)))
    details.update({"separation": round(float(separation), 3), "touches_border": round(touching, 3)})
    inv = 1.0 / scale
    box = (int(left * inv), int(top * inv), min(image.width, int((right + 1) * inv)),
           min(image.height, int((bottom + 1) * inv)))
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        details["note"] = "the object found is too small; the whole photo is used"
        return ObjectBox((0, 0, image.width, image.height), 0, False, details)
    return ObjectBox(box, max(0, confidence), True, details)


def _expand(box: tuple[int, int, int, int], margin: float, size: tuple[int, int]) -> tuple[int, int, int, int]:
    left, top, right, bottom = box
    pad = round(max(right - left, bottom - top) * margin)
    return max(0, left - pad), max(0, top - pad), min(size[0], right + pad), min(size[1], bottom + pad)


def measure_quality(image: Image.Image) -> tuple[int, dict]:
    q = assess_quality(image)
    return q.score, {"score": q.score, "reasons": q.reasons, "metrics": q.metrics}


# --- base views -------------------------------------------------------------------------------

def base_view(photo: Image.Image, params: dict | None = None) -> Rendered:
    """The object cropped, centred on a white square canvas of a standard size."""
    p = params_for("base_view", params)
    photo = flatten(photo)
    obj = find_object(photo, p["threshold"])
    crop_box = _expand(obj.box, float(p["margin"]), photo.size) if obj.found else obj.box
    crop = photo.crop(crop_box)
    longest = max(crop.size)
    # The biggest standard canvas we reach without enlarging more than MAX_UPSCALE times.
    canvas_side = next((s for s in sorted(BASE_SIZES, reverse=True) if s * 0.9 / longest <= MAX_UPSCALE),
                       min(BASE_SIZES))
    canvas = centre_on_white(crop, canvas_side)
    score, quality = measure_quality(canvas)
    return Rendered(
        canvas, "JPEG", confidence=obj.confidence if obj.found else 0, quality=score,
        analysis={"object": {"found": obj.found, "box": list(obj.box), **obj.details}, "quality": quality},
        meta={"canvas": canvas_side, "crop_box": list(crop_box), "source_size": list(photo.size),
              "scale": round(canvas_side * 0.9 / longest, 4)},
        parameters=p)


def centre_on_white(image: Image.Image, side: int, fill: float = 0.9) -> Image.Image:
    scale = side * fill / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    resized = image.resize(size, Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (side, side), "white")
    canvas.paste(resized, ((side - size[0]) // 2, (side - size[1]) // 2))
    return canvas


def rendition(data: bytes, side: int) -> bytes:
    """A smaller standard size of a stored base view (same format)."""
    with Image.open(io.BytesIO(data)) as image:
        small = image.convert("RGB").resize((side, side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        small.save(out, "JPEG", quality=90, optimize=True)
        return out.getvalue()


# --- close-ups --------------------------------------------------------------------------------

def _gray_array(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"), dtype=np.float32)


def _sobel(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.pad(gray, 1, mode="edge")
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])
    return gx, gy


def _integral(a: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0] + 1, a.shape[1] + 1), dtype=np.float64)
    out[1:, 1:] = a.cumsum(0).cumsum(1)
    return out


def detail_regions(photo: Image.Image, box: tuple[int, int, int, int], count: int, window: float) -> list[dict]:
    """The `count` most detailed, non-overlapping square windows inside `box` (source pixels)."""
    region = photo.crop(box)
    scale = min(1.0, WORK_SIDE / max(region.size))
    small = region.resize((max(1, round(region.width * scale)), max(1, round(region.height * scale))),
                          Image.Resampling.BOX)
    gx, gy = _sobel(_gray_array(small.filter(ImageFilter.GaussianBlur(1))))
    mag = np.hypot(gx, gy)
    h, w = mag.shape
    side = max(8, min(h, w, round(min(h, w) * float(window))))
    stride = max(1, side // 4)
    ii = _integral(mag)
    ys = np.arange(0, h - side + 1, stride)
    xs = np.arange(0, w - side + 1, stride)
    Y, X = np.meshgrid(ys, xs, indexing="ij")
    sums = ii[Y + side, X + side] - ii[Y, X + side] - ii[Y + side, X] + ii[Y, X]
    density = sums / (side * side)
    order = np.argsort(density, axis=None)[::-1]
    chosen: list[tuple[int, int, float]] = []
    for flat in order:
        y, x = int(Y.flat[flat]), int(X.flat[flat])
        if all(abs(x - cx) >= side or abs(y - cy) >= side for cx, cy, _ in chosen):
            chosen.append((x, y, float(density.flat[flat])))
            if len(chosen) >= count:
                break
    mean_density = float(mag.mean()) or 1.0
    inv = 1.0 / scale
    return [{"x": box[0] + round(x * inv), "y": box[1] + round(y * inv), "w": round(side * inv),
             "h": round(side * inv), "edge_density": round(d, 2), "relative_density": round(d / mean_density, 3),
             "rank": rank} for rank, (x, y, d) in enumerate(chosen, start=1)]


def close_up_regions(photo: Image.Image, params: dict | None = None) -> tuple[list[dict], list[str], ObjectBox]:
    """The detailed regions a close-up run would crop, their position names and the object found."""
    p = params_for("close_up", params)
    obj = find_object(photo)
    count = max(1, min(6, int(p["count"])))
    regions = detail_regions(photo, obj.box, count, max(0.1, min(0.9, float(p["window"]))))
    names = unique_names([position_name(r, obj.box) for r in regions])
    return regions, names, obj


def close_ups(photo: Image.Image, params: dict | None = None) -> list[Rendered]:
    """Crops of the most detailed regions of the object (Sobel edge density, sliding window)."""
    p = params_for("close_up", params)
    photo = flatten(photo)
    regions, names, obj = close_up_regions(photo, p)
    results = []
    for region, name in zip(regions, names, strict=True):
        crop = photo.crop((region["x"], region["y"], region["x"] + region["w"], region["y"] + region["h"]))
        side = 1000 if max(crop.size) * MAX_UPSCALE >= 1000 else max(crop.size)
        out = crop.resize((side, side), Image.Resampling.LANCZOS)
        score, quality = measure_quality(out)
        results.append(Rendered(
            out, "JPEG", quality=score, category=f"region-{region['rank']}",
            analysis={"quality": quality, "object": {"found": obj.found, "box": list(obj.box)}},
            meta={"region": region, "position_name": name, "source_size": list(photo.size), "output_side": side},
            parameters=p))
    return results


# --- sketches ---------------------------------------------------------------------------------

def line_drawing(image: Image.Image, detail: int = 80, min_cluster: int = 4) -> tuple[Image.Image, dict]:
    """Black lines on white: Sobel, thin by non-maximum suppression, hysteresis, speck removal."""
    gray = _gray_array(image.convert("L").filter(ImageFilter.GaussianBlur(1.4)))
    gx, gy = _sobel(gray)
    mag = np.hypot(gx, gy)
    thin = _non_max_suppression(mag, gx, gy)
    nonzero = thin[thin > 0]
    if nonzero.size == 0:
        blank = Image.new("L", image.size, 255)
        return blank, {"edge_pixels": 0, "note": "no edges found"}
    pct = max(50.0, min(99.0, float(detail)))
    high = float(np.percentile(nonzero, pct))
    low = 0.4 * high
    strong, weak = thin >= high, thin >= low
    edges = _hysteresis(strong, weak)
    edges = _remove_specks(edges, int(min_cluster))
    lines = Image.fromarray(np.where(edges, 0, 255).astype(np.uint8))
    lines = lines.filter(ImageFilter.MinFilter(3))  # thicken black lines to survive print
    return lines, {"edge_pixels": int(edges.sum()), "high_threshold": round(high, 1),
                   "low_threshold": round(low, 1), "edge_share": round(float(edges.mean()), 4)}


def _non_max_suppression(mag: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    angle = (np.degrees(np.arctan2(gy, gx)) + 180.0) % 180.0
    p = np.pad(mag, 1)
    c = p[1:-1, 1:-1]
    neighbours = {
        0: (p[1:-1, :-2], p[1:-1, 2:]),     # horizontal gradient: compare left/right
        45: (p[:-2, 2:], p[2:, :-2]),
        90: (p[:-2, 1:-1], p[2:, 1:-1]),
        135: (p[:-2, :-2], p[2:, 2:]),
    }
    sector = (np.round(angle / 45.0) % 4 * 45).astype(int)
    keep = np.zeros_like(mag, dtype=bool)
    for deg, (a, b) in neighbours.items():
        sel = sector == deg
        keep |= sel & (c >= a) & (c >= b)
    return np.where(keep, mag, 0.0)


def _hysteresis(strong: np.ndarray, weak: np.ndarray, max_rounds: int = 12) -> np.ndarray:
    # Weak edges survive when connected to a strong one within max_rounds pixels (bounded growth
    # keeps a 1000 px drawing well under a second).
    current = strong.copy()
    for _ in range(max_rounds):
        p = np.pad(current, 1)
        grown = (p[:-2, :-2] | p[:-2, 1:-1] | p[:-2, 2:] | p[1:-1, :-2] | p[1:-1, 2:]
                 | p[2:, :-2] | p[2:, 1:-1] | p[2:, 2:] | current)
        nxt = grown & weak
        if np.array_equal(nxt, current):
            break
        current = nxt
    return current


def _remove_specks(edges: np.ndarray, min_cluster: int) -> np.ndarray:
    if min_cluster <= 1:
        return edges
    ii = _integral(edges.astype(np.float64))
    r = 2
    h, w = edges.shape
    y0 = np.clip(np.arange(h) - r, 0, h)
    y1 = np.clip(np.arange(h) + r + 1, 0, h)
    x0 = np.clip(np.arange(w) - r, 0, w)
    x1 = np.clip(np.arange(w) + r + 1, 0, w)
    counts = ii[y1][:, x1] - ii[y0][:, x1] - ii[y1][:, x0] + ii[y0][:, x0]
    return edges & (counts >= min_cluster)


def sketch(photo: Image.Image, params: dict | None = None) -> Rendered:
    """A line drawing of the object, centred like its base view."""
    p = params_for("sketch", params)
    photo = flatten(photo)
    obj = find_object(photo)
    crop_box = _expand(obj.box, DEFAULTS["base_view"]["margin"], photo.size) if obj.found else obj.box
    crop = photo.crop(crop_box)
    # Drawn on the crop itself, so the crop's border never becomes a line.
    scale = 900 / max(crop.size)
    crop = crop.resize((max(1, round(crop.width * scale)), max(1, round(crop.height * scale))),
                       Image.Resampling.LANCZOS)
    lines, stats = line_drawing(crop, int(p["detail"]), int(p["min_cluster"]))
    canvas = Image.new("L", (1000, 1000), 255)
    canvas.paste(lines, ((1000 - lines.width) // 2, (1000 - lines.height) // 2))
    score, quality = measure_quality(canvas)
    return Rendered(canvas, "PNG", quality=score, confidence=obj.confidence if obj.found else 0,
                    analysis={"edges": stats, "quality": quality, "callouts": [], "measurements": [],
                              "object": {"found": obj.found, "box": list(obj.box)}},
                    meta={"canvas": 1000, "crop_box": list(crop_box), "source_size": list(photo.size),
                          "scale": round(scale, 6)},
                    parameters=p)


def annotate(lines: Image.Image, callouts: list[dict], measurements: list[dict]) -> Image.Image:
    """Draw callouts (numbered dots with text) and measurement lines on a sketch; coordinates in %.

    A measurement without a value is drawn with its name only; derived values carry a note at
    the foot of the drawing saying where the number comes from."""
    image = lines.convert("RGB")
    draw = ImageDraw.Draw(image)
    w, h = image.size
    font = fonts.pil_font(max(14, w // 45))
    colour = (200, 30, 30)

    def at(x: float, y: float) -> tuple[float, float]:
        return x / 100 * (w - 1), y / 100 * (h - 1)

    for number, c in enumerate(callouts, start=1):
        x, y = at(c["x"], c["y"])
        r = max(10, w // 70)
        draw.ellipse((x - r, y - r, x + r, y + r), outline=colour, width=3)
        draw.text((x, y), str(number), fill=colour, font=font, anchor="mm")
        draw.text((x + r + 6, y), c["text"], fill=colour, font=font, anchor="lm")
    notes = []
    for m in measurements:
        (x1, y1), (x2, y2) = at(m["x1"], m["y1"]), at(m["x2"], m["y2"])
        draw.line((x1, y1, x2, y2), fill=colour, width=3)
        for x, y in ((x1, y1), (x2, y2)):
            draw.ellipse((x - 5, y - 5, x + 5, y + 5), fill=colour)
        value = str(m.get("value") or "")
        label = f"{m['label']}: {value}" if m.get("label") and value else (m.get("label") or value)
        if m.get("derived"):
            label += " *"
            notes.append(m.get("note") or "")
        draw.text(((x1 + x2) / 2, (y1 + y2) / 2 - 8), label, fill=colour, font=font, anchor="md")
    if notes:
        draw.text((12, h - 12), f"* {notes[0]}", fill=colour, font=fonts.pil_font(max(12, w // 60)), anchor="ld")
    return image

"""Make the "made" barcode photo set: EAN-13 and UPC-A labels degraded the ways phone photos are.

Usage: python bench/make_barcode_photos.py [out_dir]     (default tests/fixtures/barcodes-made)
Writes <out>/ean13/N.webp, <out>/upca/N.webp with N.txt (the number), and <out>/no-barcode/N.webp
(packaging text with prices, dates, phone and lot numbers, never a barcode). Deterministic: the
same seed gives the same files. The harm applied to each photo is written in <out>/MANIFEST.tsv.

Harms, combined at random per photo: low resolution (1.1–2.5 px per bar module), blur, skew
(perspective), curvature (a label round a bottle), rotation, uneven light with a glare spot,
sensor noise, heavy JPEG compression. They are meant to be hard: some photos are beyond any
reader, which is what the false-read count is for.
"""
from __future__ import annotations

import io
import math
import random
import sys
from pathlib import Path

import numpy as np
from barcode import EAN13, UPCA
from barcode.writer import ImageWriter
from PIL import Image, ImageDraw, ImageFilter, ImageFont

REPO = Path(__file__).resolve().parents[1]
SEED = 20261201
MODULE_MM, DPI = 0.33, 200
FONT = str(Path(__import__("barcode").__file__).parent / "fonts" / "DejaVuSansMono.ttf")
WORDS = ("organic", "sea salt", "crackers", "net wt", "best before", "lot", "made in", "ingredients", "recycle",
         "keep dry", "vitamin", "500 g", "350 ml", "sugar", "wholegrain", "Tel", "www", "batch", "store")


def _check_digit(payload: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return str((10 - total % 10) % 10)


def _number(rng: random.Random, kind: str) -> str:
    if kind == "upca":
        body = str(rng.choice([0, 0, 0, 1, 3, 6, 7, 8])) + "".join(str(rng.randint(0, 9)) for _ in range(10))
        return body + _check_digit(body)
    prefix = rng.choice(["400", "401", "500", "501", "540", "590", "690", "760", "800", "840", "871", "978", "979"])
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(9))
    return body + _check_digit(body)


def _label(number: str, kind: str, rng: random.Random) -> Image.Image:
    """Bars drawn by python-barcode; the digits printed the way packaging prints them:
    EAN-13 "9 780804 816632" (first digit outside the bars), UPC-A "0 75720 00325 9"."""
    cls = UPCA if kind == "upca" else EAN13
    code = cls(number[:11] if kind == "upca" else number[:12], writer=ImageWriter())
    buffer = io.BytesIO()
    code.write(buffer, options={"module_width": MODULE_MM, "module_height": rng.uniform(12, 22), "quiet_zone": 6.5,
                                "dpi": DPI, "write_text": False})
    buffer.seek(0)
    bars = Image.open(buffer).convert("RGB")
    module = MODULE_MM / 25.4 * DPI
    left = 6.5 / 25.4 * DPI
    digit_h = int(module * 9)
    label = Image.new("RGB", (bars.width, bars.height + digit_h), "white")
    label.paste(bars, (0, 0))
    draw = ImageDraw.Draw(label)
    font = ImageFont.truetype(FONT, int(digit_h * 0.95))
    y = bars.height - int(module * 2)

    def write(text: str, first_module: float, last_module: float) -> None:
        width = draw.textlength(text, font=font)
        x = left + (first_module + last_module) / 2 * module - width / 2
        draw.text((x, y), text, fill="black", font=font)

    if kind == "upca":
        write(number[0], -7, -1)
        write(number[1:6], 10, 45)
        write(number[6:11], 50, 85)
        write(number[11], 96, 102)
    else:
        write(number[0], -7, -1)
        write(number[1:7], 3, 45)
        write(number[7:13], 50, 92)
    return label


def _packaging(size: tuple[int, int], rng: random.Random) -> Image.Image:
    base = tuple(rng.randint(150, 255) for _ in range(3))
    canvas = Image.new("RGB", size, base)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=rng.randint(14, 28))
    for _ in range(rng.randint(2, 6)):
        text = " ".join(rng.sample(WORDS, rng.randint(1, 3)))
        if rng.random() < 0.4:
            text += f" {rng.randint(1, 31):02d}/{rng.randint(1, 12):02d}/{rng.randint(2025, 2028)}"
        if rng.random() < 0.3:
            text += f" {rng.randint(1, 99)},{rng.randint(0, 99):02d}"
        xy = (rng.randint(0, max(1, size[0] - 200)), rng.randint(0, max(1, size[1] - 30)))
        draw.text(xy, text, fill=tuple(rng.randint(0, 90) for _ in range(3)), font=font)
    return canvas


def _photo_of(label: Image.Image, rng: random.Random) -> Image.Image:
    margin = rng.randint(40, 160)
    canvas = _packaging((label.width + 2 * margin, label.height + 2 * margin), rng)
    canvas.paste(label, (margin + rng.randint(-20, 20), margin + rng.randint(-20, 20)))
    return canvas


def _scale_to_modules(image: Image.Image, px_per_module: float) -> Image.Image:
    # The label was drawn at 0.33 mm per module at 200 dpi: about 2.6 px per module.
    factor = px_per_module / (0.33 / 25.4 * 200)
    size = (max(8, round(image.width * factor)), max(8, round(image.height * factor)))
    return image.resize(size, Image.Resampling.BILINEAR)


def _skew(image: Image.Image, rng: random.Random, amount: float) -> Image.Image:
    w, h = image.size
    d = amount * min(w, h)
    quad = (rng.uniform(0, d), rng.uniform(0, d), rng.uniform(0, d), h - rng.uniform(0, d),
            w - rng.uniform(0, d), h - rng.uniform(0, d), w - rng.uniform(0, d), rng.uniform(0, d))
    return image.transform((w, h), Image.Transform.QUAD, quad, Image.Resampling.BICUBIC, fillcolor=(90, 90, 90))


def _curve(image: Image.Image, strength: float) -> Image.Image:
    """Wrap the picture round a cylinder: columns near the edges are squeezed and shifted."""
    a = np.asarray(image)
    h, w = a.shape[:2]
    xs = np.linspace(-1, 1, w)
    source = (np.arcsin(np.clip(xs * math.sin(strength), -1, 1)) / strength + 1) / 2 * (w - 1)
    shift = (1 - np.cos(xs * strength)) * h * 0.06
    out = np.empty_like(a)
    for x in range(w):
        column = a[:, int(source[x])]
        out[:, x] = np.roll(column, int(shift[x]), axis=0)
    return Image.fromarray(out)


def _light(image: Image.Image, rng: random.Random) -> Image.Image:
    a = np.asarray(image).astype(np.float32)
    h, w = a.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    gradient = 0.65 + 0.5 * (xx / w if rng.random() < 0.5 else yy / h)
    cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.1, 0.3) * max(w, h)
    glare = 90 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
    a = a * gradient[..., None] + glare[..., None]
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def _noise(image: Image.Image, rng: random.Random, sigma: float) -> Image.Image:
    noise = np.random.default_rng(rng.randint(0, 2**31)).normal(0, sigma, (image.height, image.width, 1))
    return Image.fromarray(np.clip(np.asarray(image).astype(np.float32) + noise, 0, 255).astype(np.uint8))


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def degrade(image: Image.Image, rng: random.Random) -> tuple[Image.Image, list[str]]:
    """Apply a random mix of harms; return the photo and what was done to it."""
    done = []
    if rng.random() < 0.5:
        strength = rng.uniform(0.6, 1.3)
        image, _ = _curve(image, strength), done.append(f"curved {strength:.1f}")
    if rng.random() < 0.6:
        amount = rng.uniform(0.04, 0.16)
        image, _ = _skew(image, rng, amount), done.append(f"skewed {amount:.2f}")
    if rng.random() < 0.6:
        angle = rng.uniform(-18, 18)
        image = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(80, 80, 80))
        done.append(f"rotated {angle:.0f}")
    px = rng.uniform(1.1, 2.5)
    image, _ = _scale_to_modules(image, px), done.append(f"{px:.1f} px/module")
    if rng.random() < 0.6:
        radius = rng.uniform(0.4, 1.6)
        image, _ = image.filter(ImageFilter.GaussianBlur(radius)), done.append(f"blur {radius:.1f}")
    if rng.random() < 0.5:
        image, _ = _light(image, rng), done.append("uneven light")
    if rng.random() < 0.5:
        sigma = rng.uniform(4, 14)
        image, _ = _noise(image, rng, sigma), done.append(f"noise {sigma:.0f}")
    quality = rng.randint(25, 80)
    return _jpeg(image, quality), done + [f"jpeg {quality}"]


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else REPO / "tests" / "fixtures" / "barcodes-made"
    rng = random.Random(SEED)
    manifest = ["file\tnumber\tharms"]
    for kind, count in (("ean13", 36), ("upca", 24)):
        (out / kind).mkdir(parents=True, exist_ok=True)
        for n in range(1, count + 1):
            number = _number(rng, kind)
            photo, harms = degrade(_photo_of(_label(number, kind, rng), rng), rng)
            name = f"{kind}/{n:02d}"
            photo.save(out / f"{name}.webp", "WEBP", quality=85)
            (out / f"{name}.txt").write_text(number + "\n")
            manifest.append(f"{name}.webp\t{number}\t{', '.join(harms)}")
    (out / "no-barcode").mkdir(parents=True, exist_ok=True)
    for n in range(1, 16):
        photo = _packaging((rng.randint(400, 900), rng.randint(300, 700)), rng)
        draw = ImageDraw.Draw(photo)
        font = ImageFont.load_default(size=rng.randint(16, 26))
        lot = "".join(str(rng.randint(0, 9)) for _ in range(13))  # a lot number, not a GTIN
        draw.text((20, photo.height - 60), f"Lot {lot}  Tel +44 20 7946 {rng.randint(1000, 9999)}", fill=(20, 20, 20),
                  font=font)
        photo, harms = degrade(photo, rng)
        photo.save(out / "no-barcode" / f"{n:02d}.webp", "WEBP", quality=85)
        manifest.append(f"no-barcode/{n:02d}.webp\t\t{', '.join(harms)}")
    (out / "MANIFEST.tsv").write_text("\n".join(manifest) + "\n")
    print(f"wrote {len(manifest) - 1} photos under {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

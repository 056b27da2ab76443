"""Figures for the offline analysers: barcode read rates per folder, false reads, timings.

Usage: python bench/analysis.py [fixtures_dir ...]  (default: the shared photo set and the made set)
Each image N.* in a folder may have N.txt with the expected text; no .txt means no barcode.

Per folder: photos read right by the bars alone (`plain`: zxing-cpp's own call; `bars`: with our
copies and votes), and with the printed digits too (`with digits`: the pipeline's reading, OCR
included); `wrong` counts photos where another product number than the expected one was reported, and
`false+` codes reported on photos without a barcode. The last lines add up the EAN-13 and UPC-A
folders: the pipeline's goal is no false read at all and as few misses as possible.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.analysis.barcodes import normalise_gtin, read_barcodes  # noqa: E402
from app.analysis.image_quality import assess_quality  # noqa: E402
from app.analysis.images import load_image  # noqa: E402
from app.analysis.printed_digits import read_codes  # noqa: E402
from bench.labels import expected_text  # noqa: E402

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"}
RETAIL_FOLDERS = ("ean13", "upca")


def default_roots() -> list[Path]:
    """The shared photo set next to the repository if present (else the copy in tests), and the made set."""
    shared = REPO.parent / "shared" / "fixtures" / "barcodes"
    return [shared if shared.is_dir() else REPO / "tests" / "fixtures" / "barcodes",
            REPO / "tests" / "fixtures" / "barcodes-made"]


def comparable(text: str) -> str:
    """Text as the expectation files write it: LF line ends, no HRI control names or GS1 brackets;
    retail numbers as 13-digit GTINs."""
    text = text.replace("\r\n", "\n").strip()
    text = re.sub(r"<(?:SOH|DLE|GS|RS|EOT|ETX|STX|NUL)>|[\x00-\x09\x0b-\x1f]", "", text)
    if text.startswith("("):
        text = re.sub(r"\((\d{2,4})\)", r"\1", text)
    return normalise_gtin(text) or text


def bench_folder(folder: Path, *, with_ocr: bool) -> dict:
    """Read every image in folder three ways; count right, wrong and false reads, and time them."""
    from app.analysis.ocr import read_text

    counts = {"total": 0, "expected": 0, "plain": 0, "bars": 0, "digits": 0, "wrong": 0, "false_positives": 0}
    millis, ocr_millis, quality_millis = [], [], []
    for image_path in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        label = image_path.with_suffix(".txt")
        text = expected_text(folder.name, image_path.name, label.read_text(encoding="utf-8") if label.exists() else None)
        expected = comparable(text) if text else None
        image = load_image(image_path)
        counts["total"] += 1
        counts["expected"] += expected is not None
        started = time.perf_counter()
        bars = {comparable(b.text) for b in read_barcodes(image)}
        millis.append((time.perf_counter() - started) * 1000)
        plain = {comparable(b.text) for b in read_barcodes(image, try_harder=False)}
        lines = []
        if with_ocr and min(image.size) >= 16:
            started = time.perf_counter()
            lines = [(line.text, line.confidence) for line in read_text(image)]
            ocr_millis.append((time.perf_counter() - started) * 1000)
        found = {comparable(c.text) for c in read_codes(image, lines)}
        started = time.perf_counter()
        assess_quality(image_path)
        quality_millis.append((time.perf_counter() - started) * 1000)
        if expected is None:
            counts["false_positives"] += len(found)
            continue
        counts["plain"] += expected in plain
        counts["bars"] += expected in bars
        counts["digits"] += expected in found
        # Wrong: a code reported that is not the photo's (a second, different product number).
        # A photo may hold two real QR codes (one sample is a "double QR"): only the expected one counts.
        others = found - {expected}
        counts["wrong"] += bool(others) and (expected not in found or any(o.isdigit() for o in others))
    return counts | {"median_ms": statistics.median(millis) if millis else 0.0, "max_ms": max(millis, default=0.0),
                     "ocr_ms": statistics.median(ocr_millis) if ocr_millis else 0.0,
                     "quality_ms": statistics.median(quality_millis) if quality_millis else 0.0}


def main(argv: list[str]) -> int:
    """Print one line per folder, then the retail totals."""
    roots = [Path(a) for a in argv[1:]] or default_roots()
    print(f"{'folder':<26} {'plain':>7} {'bars':>7} {'with digits':>11} {'wrong':>5} {'false+':>6} "
          f"{'bc med ms':>9} {'bc max ms':>9} {'ocr med ms':>10}")
    retail = {"expected": 0, "digits": 0, "bars": 0, "wrong": 0, "false_positives": 0, "photos": 0}
    for root in roots:
        if not root.is_dir():
            continue
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            r = bench_folder(folder, with_ocr=True)
            name = f"{root.name}/{folder.name}"
            if r["expected"]:
                cells = [f"{r[k]}/{r['expected']}" for k in ("plain", "bars", "digits")]
            else:
                cells = ["-", "-", "-"]
            print(f"{name:<26} {cells[0]:>7} {cells[1]:>7} {cells[2]:>11} {r['wrong']:>5} {r['false_positives']:>6} "
                  f"{r['median_ms']:>9.1f} {r['max_ms']:>9.0f} {r['ocr_ms']:>10.0f}")
            if folder.name.startswith(RETAIL_FOLDERS) or not r["expected"]:
                retail["photos"] += r["total"]
                for key in ("expected", "digits", "bars", "wrong", "false_positives"):
                    retail[key] += r[key]
    print(f"EAN-13/UPC-A photos and photos without a barcode ({retail['photos']} in all): "
          f"read {retail['digits']}/{retail['expected']} with printed digits "
          f"({retail['bars']} by the bars alone); wrong reads {retail['wrong']}, "
          f"codes on photos without one {retail['false_positives']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

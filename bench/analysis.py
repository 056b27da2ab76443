"""Figures for the offline analysers: barcode read rate per folder, false positives, timings.

Usage: python bench/analysis.py [fixtures_dir]
Each image N.* in a folder may have N.txt with the expected text; no .txt means no barcode.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.analysis.barcodes import read_barcodes
from app.analysis.image_quality import assess_quality

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"}
OCR_SAMPLE = 10


def default_fixtures() -> Path:
    """The shared photo set next to the repository if present, else the copy in tests."""
    shared = REPO.parent / "shared" / "fixtures" / "barcodes"
    return shared if shared.is_dir() else REPO / "tests" / "fixtures" / "barcodes"


def comparable(text: str) -> str:
    """Text as the expectation files write it: LF line ends, no HRI control names or GS1 brackets."""
    text = text.replace("\r\n", "\n").strip()
    text = re.sub(r"<(?:SOH|DLE|GS|RS|EOT|ETX|STX|NUL)>|[\x00-\x09\x0b-\x1f]", "", text)
    if text.startswith("("):
        text = re.sub(r"\((\d{2,4})\)", r"\1", text)
    return text


def bench_folder(folder: Path) -> dict:
    """Read every image in folder; count correct, wrong and false-positive reads, and time them."""
    correct = plain_correct = wrong = false_positives = total = 0
    millis: list[float] = []
    quality_millis: list[float] = []
    for image in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        expected_file = image.with_suffix(".txt")
        expected = comparable(expected_file.read_text(encoding="utf-8")) if expected_file.exists() else None
        started = time.perf_counter()
        found = read_barcodes(image)
        millis.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        assess_quality(image)
        quality_millis.append((time.perf_counter() - started) * 1000)
        total += 1
        texts = {comparable(b.text) for b in found}
        if expected is None:
            false_positives += len(found)
        elif expected in texts:
            correct += 1
        if expected is not None:
            # The same decoder without the try-harder pass, to show what the pass adds.
            plain_correct += expected in {comparable(b.text) for b in read_barcodes(image, try_harder=False)}
        if expected is not None and found and expected not in texts:
            wrong += 1
    return {
        "total": total,
        "correct": correct,
        "plain_correct": plain_correct,
        "wrong": wrong,
        "false_positives": false_positives,
        "expected": sum(1 for p in folder.glob("*.txt")),
        "median_ms": statistics.median(millis) if millis else 0.0,
        "max_ms": max(millis, default=0.0),
        "quality_ms": statistics.median(quality_millis) if quality_millis else 0.0,
    }


def bench_ocr(images: list[Path]) -> tuple[float, int]:
    """Median ms per image and total lines read, over a small sample (OCR is ~1 s an image)."""
    from app.analysis.ocr import read_text

    read_text(images[0])  # model load is a one-off cost; keep it out of the figure
    millis, lines = [], 0
    for image in images:
        started = time.perf_counter()
        lines += len(read_text(image))
        millis.append((time.perf_counter() - started) * 1000)
    return statistics.median(millis), lines


def main(argv: list[str]) -> int:
    """Print one line per folder, then OCR timing on a sample."""
    root = Path(argv[1]) if len(argv) > 1 else default_fixtures()
    print(f"fixtures: {root}")
    print(f"{'folder':<18} {'read':>9} {'plain':>6} {'wrong':>5} {'false+':>6} {'bc med ms':>9} {'bc max ms':>9} {'quality ms':>10}")
    all_images: list[Path] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        r = bench_folder(folder)
        read = f"{r['correct']}/{r['expected']}" if r["expected"] else "-"
        plain = str(r["plain_correct"]) if r["expected"] else "-"
        print(
            f"{folder.name:<18} {read:>9} {plain:>6} {r['wrong']:>5} {r['false_positives']:>6} "
            f"{r['median_ms']:>9.1f} {r['max_ms']:>9.0f} {r['quality_ms']:>10.1f}"
        )
        all_images += sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    sample = [p for p in all_images if min(_size(p)) >= 32]
    sample = sample[:: max(1, len(sample) // OCR_SAMPLE)][:OCR_SAMPLE]
    if sample:
        median, lines = bench_ocr(sample)
        print(f"ocr: {len(sample)} images, median {median:.0f} ms per image, {lines} lines read")
    return 0


def _size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:
        return image.size


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

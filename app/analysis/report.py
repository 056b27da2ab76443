"""One JSON-ready summary of everything the offline analysers say about an image file."""

from __future__ import annotations

import os
from typing import Any

from app.analysis.image_quality import assess_quality
from app.analysis.images import load_image
from app.analysis.printed_digits import read_codes


def analyse_image_file(path: str | os.PathLike, *, with_ocr: bool = True) -> dict[str, Any]:
    """Return {"path", "barcodes", "ocr", "quality"} for one image; raises ImageRejected if unusable.

    Each barcode says where it came from: "source" is "bars" (decoded) or "printed digits"
    (read from the digits printed under the bars or an ISBN line, when the bars could not be
    decoded); without OCR only decoded bars can be found."""
    image = load_image(path)  # opened and checked once, shared by every analyser
    ocr: list[dict[str, Any]] = []
    if with_ocr:
        from app.analysis.ocr import read_text  # loads ONNX models: only when asked for

        ocr = [{"text": line.text, "confidence": round(line.confidence, 3), "box": [list(p) for p in line.box]}
               for line in read_text(image)]
    codes = read_codes(image, [(line["text"], line["confidence"]) for line in ocr])
    quality = assess_quality(path)  # decodes a reduced copy of big JPEGs: faster than the full image
    return {
        "path": str(path),
        "barcodes": [code.as_json() for code in codes],
        "ocr": ocr,
        "quality": {"score": quality.score, "reasons": quality.reasons},
    }

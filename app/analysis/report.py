"""One JSON-ready summary of everything the offline analysers say about an image file."""

from __future__ import annotations

import os
from typing import Any

from app.analysis.barcodes import read_barcodes
from app.analysis.image_quality import assess_quality
from app.analysis.images import load_image


def analyse_image_file(path: str | os.PathLike, *, with_ocr: bool = True) -> dict[str, Any]:
    """Return {"path", "barcodes", "ocr", "quality"} for one image; raises ImageRejected if unusable."""
    image = load_image(path)  # opened and checked once, shared by every analyser
    result: dict[str, Any] = {
        "path": str(path),
        "barcodes": [{"format": b.format, "text": b.text} for b in read_barcodes(image)],
        "ocr": [],
        "quality": {},
    }
    if with_ocr:
        from app.analysis.ocr import read_text  # loads ONNX models: only when asked for

        result["ocr"] = [
            {"text": line.text, "confidence": round(line.confidence, 3), "box": [list(p) for p in line.box]}
            for line in read_text(image)
        ]
    quality = assess_quality(path)
    result["quality"] = {"score": quality.score, "reasons": quality.reasons}
    return result

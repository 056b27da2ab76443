"""Read printed text from photos with RapidOCR (ONNX models bundled in the wheel, works offline)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from app.analysis.images import ImageInput, load_image

# The size the text detector sees, by the photo's long side: phone photos are brought down to
# OCR_MAX_SIDE (labels stay legible, detection stays under a second and a few hundred MB), small
# pictures up to OCR_MIN_SIDE (printed digits under a barcode need it). Only the long side is
# used: RapidOCR's default, scaling the short side up to 736 px, made a 544×68 strip 5888×736
# (seconds of CPU and 400 MB for one line of text).
OCR_MAX_SIDE = 1600
OCR_MIN_SIDE = 960

_engine: Any = None
_engine_error: str | None = None
_engine_lock = threading.Lock()
# onnxruntime sessions are thread-safe, but RapidOCR keeps per-call state in Python objects.
_call_lock = threading.Lock()


@dataclass(frozen=True)
class OcrLine:
    """One line of text, the recogniser's confidence (0..1) and its box as four (x, y) corners."""

    text: str
    confidence: float
    box: tuple[tuple[int, int], ...]


def read_text(image_or_path: ImageInput, *, min_confidence: float = 0.5) -> list[OcrLine]:
    """Return the text lines found in an image, top to bottom, in original-image coordinates."""
    image = load_image(image_or_path)
    scaled, factor = _for_ocr(image)
    engine = _get_engine()
    with _call_lock:
        result, _elapsed = engine(_to_bgr(scaled))
    lines = [_to_line(item, factor) for item in result or ()]
    lines = [line for line in lines if line.text and line.confidence >= min_confidence]
    return sorted(lines, key=lambda line: (line.box[0][1], line.box[0][0]))


def ocr_available() -> tuple[bool, str]:
    """Health check: (True, detail) if the OCR engine loads, else (False, why not)."""
    try:
        _get_engine()
    except Exception as exc:  # noqa: BLE001 - a health check reports any failure as text
        return False, f"OCR unavailable: {exc}"
    return True, "rapidocr-onnxruntime ready"


def _get_engine() -> Any:
    global _engine, _engine_error
    if _engine is not None:
        return _engine
    with _engine_lock:
        if _engine is None:
            if _engine_error is not None:
                raise RuntimeError(_engine_error)
            try:
                # Imported here so that importing this module stays cheap for the web process.
                from rapidocr_onnxruntime import RapidOCR

                # limit_type "max": the detector never enlarges what _for_ocr sized.
                _engine = RapidOCR(det_limit_type="max", det_limit_side_len=OCR_MAX_SIDE)
            except Exception as exc:
                _engine_error = f"{type(exc).__name__}: {exc}"
                raise RuntimeError(_engine_error) from exc
    return _engine


def _for_ocr(image: Image.Image) -> tuple[Image.Image, float]:
    """The image scaled for the detector, and the factor back to the photo's coordinates."""
    longest = max(image.size)
    target = min(max(longest, OCR_MIN_SIDE), OCR_MAX_SIDE)
    if target == longest:
        return image, 1.0
    factor = longest / target
    size = (max(1, round(image.width / factor)), max(1, round(image.height / factor)))
    return image.resize(size, Image.Resampling.LANCZOS), factor


def _to_bgr(image: Image.Image) -> np.ndarray:
    # RapidOCR follows OpenCV's channel order.
    rgb = np.asarray(image.convert("RGB"))
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _to_line(item: list, factor: float) -> OcrLine:
    box, text, confidence = item
    corners = tuple((round(x * factor), round(y * factor)) for x, y in box)
    return OcrLine(text=str(text).strip(), confidence=float(confidence), box=corners)

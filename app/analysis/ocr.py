"""Read printed text from photos with RapidOCR (ONNX models bundled in the wheel, works offline)."""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from PIL import Image

from app.analysis.images import ImageInput, load_image
from app.core.deferred import numpy as np  # loaded on first use: not in the web process

# The size the text detector sees, by the photo's long side: phone photos are brought down to
# OCR_MAX_SIDE (labels stay legible, detection stays under a second and a few hundred MB), small
# pictures up to OCR_MIN_SIDE (printed digits under a barcode need it). Only the long side is
# used: RapidOCR's default, scaling the short side up to 736 px, made a 544×68 strip 5888×736
# (seconds of CPU and 400 MB for one line of text).
OCR_MAX_SIDE = 1600
OCR_MIN_SIDE = 960
# The detector's working memory grows with the pixels it is given: about 180 MB a megapixel on
# top of ~60 MB (a 1,600×1,200 photo took +350–450 MB, a work horse 740 MB). Above
# OCR_DET_PIXELS it is run on horizontal bands of the scaled photo, one after the other, which
# overlap by BAND_OVERLAP rows so that a line of text lies whole in at least one band; a line
# taller than the overlap is cut by every band that sees it, and its pieces are joined again.
OCR_DET_PIXELS = 400_000
BAND_OVERLAP = 64
_EDGE = 16  # a box this close to a band's cut edge was cut by it (the detector's box of a cut
# line can stop short of the edge; a whole line marked cut is dropped for, or joined with, the neighbour's)

# Threads each text-detector and recogniser run uses. One: a worker runs one photo at a time and
# there is a worker per core, so more threads only fight the other workers for the cores (with
# onnxruntime's default, a thread per core that spins while it waits, two workers on two cores
# spent 470 ms of CPU per product instead of 290, and went through 18 % fewer products a minute).
# Raise it (PIPELINE_OCR_THREADS) on a machine with more cores than workers.
DEFAULT_THREADS = 1

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
    return read_prepared(prepare(load_image(image_or_path)), min_confidence=min_confidence)


@dataclass(frozen=True)
class Prepared:
    """A photo sized for the detector, as OpenCV-ordered pixels, and the factor back to the photo."""

    bgr: np.ndarray
    factor: float


def prepare(image: Image.Image) -> Prepared:
    """The photo scaled for OCR; the full-size photo can be let go once this is made."""
    scaled, factor = _for_ocr(image)
    return Prepared(_to_bgr(scaled), factor)


def read_prepared(prepared: Prepared, *, min_confidence: float = 0.5) -> list[OcrLine]:
    """`read_text` of a photo `prepare` sized."""
    bgr = prepared.bgr
    engine = _get_engine()
    with _call_lock:
        if bgr.shape[0] * bgr.shape[1] <= OCR_DET_PIXELS:
            result, _elapsed = engine(bgr)
        else:
            result = _read_in_bands(engine, bgr)
    lines = [_to_line(item, prepared.factor) for item in result or ()]
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

                with _session_options(_threads()):
                    # limit_type "max": the detector never enlarges what _for_ocr sized.
                    _engine = RapidOCR(det_limit_type="max", det_limit_side_len=OCR_MAX_SIDE)
            except Exception as exc:
                _engine_error = f"{type(exc).__name__}: {exc}"
                raise RuntimeError(_engine_error) from exc
    return _engine


def _threads() -> int:
    from flask import current_app, has_app_context

    if has_app_context():
        return max(1, int(current_app.config.get("PIPELINE_OCR_THREADS", DEFAULT_THREADS)))
    return DEFAULT_THREADS


@contextmanager
def _session_options(threads: int):
    """Build RapidOCR's onnxruntime sessions with `threads` threads that sleep when idle, and with
    onnxruntime's own memory arena.

    RapidOCR turns the arena off, so every tensor of every run is a malloc and a free; on a band
    of a phone photo that took +171 MB and 0.88 s for five runs, against +153 MB and 0.63 s with
    the arena, which reuses its blocks from one band to the next (it keeps them until the
    process ends: a work horse ends after its job, and the worker parent never runs a model)."""
    from rapidocr_onnxruntime.utils import infer_engine

    plain = infer_engine.OrtInferSession._init_sess_opts

    def with_arena(config: dict) -> Any:
        options = plain(config)
        options.enable_cpu_mem_arena = True
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return options

    infer_engine.OrtInferSession._init_sess_opts = staticmethod(with_arena)
    try:
        yield
    finally:
        infer_engine.OrtInferSession._init_sess_opts = staticmethod(plain)


def _for_ocr(image: Image.Image) -> tuple[Image.Image, float]:
    """The image scaled for the detector, and the factor back to the photo's coordinates."""
    longest = max(image.size)
    target = min(max(longest, OCR_MIN_SIDE), OCR_MAX_SIDE)
    if target == longest:
        return image, 1.0
    factor = longest / target
    size = (max(1, round(image.width / factor)), max(1, round(image.height / factor)))
    # reducing_gap: a 12 MP photo is first halved by whole pixels (cheap, 9 MB) and then resampled.
    return image.resize(size, Image.Resampling.LANCZOS), factor


def _read_in_bands(engine: Any, bgr: np.ndarray) -> list | None:
    """RapidOCR's own steps (detect, crop, orient, recognise), the detection done band by band."""
    boxes = _detect_in_bands(engine, bgr)
    if not boxes:
        return None
    boxes = engine.sorted_boxes(np.array(boxes, dtype=np.float32))
    crops = engine.get_crop_img_list(bgr, boxes)
    crops, orientations, _ = engine.text_cls(crops)
    recognised, _ = engine.text_rec(crops, False)
    result, _elapsed = engine.get_final_res(boxes, orientations, recognised, 0.0, 0.0, 0.0)
    return result


@dataclass
class _Box:
    quad: np.ndarray  # four (x, y) corners in the scaled photo
    band: int
    cut_top: bool
    cut_bottom: bool


def bands(height: int, width: int) -> list[tuple[int, int]]:
    """Rows [top, bottom) of the bands a height × width image is detected in: as few as keep each
    under OCR_DET_PIXELS, of one height, each overlapping the next by BAND_OVERLAP rows."""
    most = max(OCR_DET_PIXELS // max(width, 1), 3 * BAND_OVERLAP)
    if height <= most:
        return [(0, height)]
    count = math.ceil((height - BAND_OVERLAP) / (most - BAND_OVERLAP))
    size = math.ceil((height + (count - 1) * BAND_OVERLAP) / count)
    step = size - BAND_OVERLAP
    return [(i * step, min(height, i * step + size)) for i in range(count)]


def _detect_in_bands(engine: Any, bgr: np.ndarray) -> list[np.ndarray]:
    spans = bands(bgr.shape[0], bgr.shape[1])
    found: list[_Box] = []
    for index, (top, bottom) in enumerate(spans):
        quads, _elapsed = engine.text_det(np.ascontiguousarray(bgr[top:bottom]))
        for quad in quads if quads is not None else ():
            quad = np.asarray(quad, dtype=np.float32) + np.array([0, top], dtype=np.float32)
            found.append(_Box(quad, index, cut_top=index > 0 and quad[:, 1].min() <= top + _EDGE,
                              cut_bottom=index < len(spans) - 1 and quad[:, 1].max() >= bottom - _EDGE))
    whole = [box.quad for box in found if not (box.cut_top or box.cut_bottom)]
    return _without_repeats(whole + _joined_pieces(found, len(spans)))


def _without_repeats(quads: list[np.ndarray]) -> list[np.ndarray]:
    """A line inside the overlap of two bands is found by both, and a piece of a line can lie
    inside the line another band saw whole: keep the larger box."""
    kept: list[np.ndarray] = []
    for quad in sorted(quads, key=lambda q: -_area(_rect(q))):
        if not any(_covered(_rect(quad), _rect(other)) for other in kept):
            kept.append(quad)
    return kept


def _joined_pieces(found: list[_Box], count: int) -> list[np.ndarray]:
    """Boxes cut by a band edge, joined with the pieces the next band found below them.

    A joined line gets the smallest (turned) rectangle around its pieces, so a slanted line stays
    slanted. A piece that finds no partner is kept as it is: either the neighbouring band saw the
    line whole (the caller then drops the piece inside it) or it is all there is of it."""
    done: list[np.ndarray] = []
    open_: list[np.ndarray] = []  # cut at the bottom of the previous band
    for index in range(count):
        here = [box for box in found if box.band == index and (box.cut_top or box.cut_bottom)]
        still_open: list[np.ndarray] = []
        for box in here:
            quad = box.quad
            if box.cut_top:  # joined with every piece above it (a cut line can come in words)
                above = [other for other in open_ if _x_overlap(_rect(quad), _rect(other)) >= 0.5]
                if above:
                    open_ = [other for other in open_ if not any(other is piece for piece in above)]
                    quad = _around(np.concatenate([*above, quad]))
            (still_open if box.cut_bottom else done).append(quad)
        done += open_
        open_ = still_open
    return done + open_


def _around(points: np.ndarray) -> np.ndarray:
    """The smallest rectangle around the points, corners clockwise from the top left (as the
    detector gives them)."""
    import cv2  # RapidOCR's own dependency

    corners = sorted(cv2.boxPoints(cv2.minAreaRect(points.astype(np.float32))).tolist())
    left = sorted(corners[:2], key=lambda point: point[1])
    right = sorted(corners[2:], key=lambda point: point[1])
    return np.array([left[0], right[0], right[1], left[1]], dtype=np.float32)


def _rect(quad: np.ndarray) -> tuple[float, float, float, float]:
    return float(quad[:, 0].min()), float(quad[:, 1].min()), float(quad[:, 0].max()), float(quad[:, 1].max())


def _x_overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Shared width over the narrower box's width."""
    shared = min(a[2], b[2]) - max(a[0], b[0])
    return max(shared, 0.0) / max(min(a[2] - a[0], b[2] - b[0]), 1.0)


def _covered(inner: tuple[float, ...], outer: tuple[float, ...]) -> bool:
    """More than half of `inner` lies inside `outer`."""
    width = min(inner[2], outer[2]) - max(inner[0], outer[0])
    height = min(inner[3], outer[3]) - max(inner[1], outer[1])
    return width > 0 and height > 0 and width * height > 0.5 * _area(inner)


def _area(rect: tuple[float, ...]) -> float:
    return max(rect[2] - rect[0], 1.0) * max(rect[3] - rect[1], 1.0)


def _to_bgr(image: Image.Image) -> np.ndarray:
    # RapidOCR follows OpenCV's channel order.
    rgb = np.asarray(image.convert("RGB"))
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _to_line(item: list, factor: float) -> OcrLine:
    box, text, confidence = item
    corners = tuple((round(x * factor), round(y * factor)) for x, y in box)
    return OcrLine(text=str(text).strip(), confidence=float(confidence), box=corners)

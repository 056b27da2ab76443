"""The one Unicode font of tech files, for PDF text and for text drawn into images.

The PDF core fonts know Latin-1 only (a "›" in "Food › Biscuits" printed as "?"). WenQuanYi
Micro Hei (Apache 2.0) covers Latin, Greek, Cyrillic and CJK in one TrueType collection and
comes from PyPI inside the `paperang-p2-fonts-cjk` wheel; TECHFILES_PDF_FONT names another
TTF/TTC/OTF file instead.
"""
from __future__ import annotations

import importlib.resources
from functools import lru_cache
from pathlib import Path

from flask import current_app, has_app_context
from PIL import ImageFont

PACKAGED = ("paperang_p2_fonts_cjk", "fonts/wqy-microhei.ttc")


def font_path() -> Path:
    """The font file to use (the configured one, else the packaged WenQuanYi Micro Hei)."""
    configured = current_app.config.get("TECHFILES_PDF_FONT") if has_app_context() else None
    if configured:
        return Path(configured)
    package, name = PACKAGED
    return Path(str(importlib.resources.files(package).joinpath(name)))


@lru_cache(maxsize=32)
def _pil_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size=size, index=0)


def pil_font(size: int) -> ImageFont.FreeTypeFont:
    """The font at `size` pixels, for drawing text into generated images."""
    return _pil_font(str(font_path()), int(size))

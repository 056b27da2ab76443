"""Attribute text of a product variant: ``"Color: Gold, Size: 12cm"`` -> ``{"color": "Gold", "size": "12cm"}``."""

from __future__ import annotations

import re
import unicodedata

# A colon that separates a key from its value: not between two digits (so "10:30" or
# "1:12" stay inside a value).
_KEY_COLON_RE = re.compile(r"(?<!\d):|:(?!\d)")


def _snake_case(key: str) -> str:
    key = unicodedata.normalize("NFKC", key).strip().lower()
    return re.sub(r"[^\w]+", "_", key).strip("_")


def parse_attributes(text: str | None) -> dict[str, str]:
    """Parse SKU attribute text into a dict with snake_case keys.

    ``"Color: Gold, Size: 12cm"`` -> ``{"color": "Gold", "size": "12cm"}``. Pairs may be
    separated by ``,`` or ``;``. A fragment without a ``key:`` belongs to the previous value
    (``"Color: Gold, Silver; Size: 12cm"`` -> color ``"Gold, Silver"``). A key with no value
    maps to ``""``. Text before the first key is kept under ``"value"``; a repeated key has
    its values joined with ``", "``.
    """
    if not text:
        return {}
    result: dict[str, str] = {}
    current: str | None = None
    for piece, sep in _split_keep_separator(str(text)):
        piece = re.sub(r"\s+", " ", piece).strip()
        if not piece:
            continue
        colon = _KEY_COLON_RE.search(piece)
        key = _snake_case(piece[: colon.start()]) if colon else ""
        if colon and key:
            value = piece[colon.end() :].strip()
            if key in result and result[key] and value:
                result[key] = f"{result[key]}, {value}"
            else:
                result[key] = result.get(key) or value
            current = key
        else:
            target = current or "value"
            joiner = f"{sep} " if sep else ", "
            result[target] = f"{result[target]}{joiner}{piece}" if result.get(target) else piece
            current = target
    return result


def _split_keep_separator(text: str) -> list[tuple[str, str]]:
    """Split on ``,`` and ``;``; each piece comes with the separator that preceded it."""
    out: list[tuple[str, str]] = []
    sep = ""
    for token in re.split(r"([,;])", text):
        if token in (",", ";"):
            sep = token
        else:
            out.append((token, sep))
    return out

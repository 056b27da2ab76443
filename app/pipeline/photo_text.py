"""Suggestions read off the photo itself when nothing identifies the product.

A product's name is usually the largest text near the middle of the packaging; its brand is a
word that is a known brand (from the organisation's catalogue or the reference data). These
are offered to a person as suggestions with the reason, never written as facts: the biggest
words on a box can as well be "NEW!" or "500 g".
"""
from __future__ import annotations

import math
import re

MAX_TITLES = 2
MIN_LETTERS = 4
# Lines that are measurements, dates, prices, codes or packaging boilerplate, not names.
_NOT_A_NAME = re.compile(
    r"^\W*(?:isbn|ean|upc|gtin|lot|batch|best before|use by|exp|net\s*wt|www\.|http|tel|e-?mail|made in|"
    r"ingredients|nutrition)\b|^[\d\s.,:/%$€£+-]+(?:g|kg|ml|l|cl|oz|lb|mm|cm|pcs?)?\s*$", re.IGNORECASE)


def title_suggestions(ocr: list[dict]) -> list[dict]:
    """Up to MAX_TITLES name suggestions: the biggest, most central readable lines."""
    scored = []
    for line in ocr:
        text = " ".join(str(line.get("text", "")).split())
        letters = sum(ch.isalpha() for ch in text)
        if letters < MIN_LETTERS or letters < 0.5 * len(text.replace(" ", "")) or _NOT_A_NAME.search(text):
            continue
        size, centrality = _size_and_centrality(line)
        if size is None:
            continue
        scored.append((size * (0.5 + 0.5 * centrality), size, text, line))
    scored.sort(key=lambda s: -s[0])
    out = []
    for _score, size, text, line in scored[:MAX_TITLES]:
        out.append({"field": "name", "value": text[:200], "source": "photo text", "score": None,
                    "why": f"one of the largest lines of text on {line.get('image') or 'the photo'} "
                           f"(letters {size:.0%} of the photo's height)"})
    return out


def brand_suggestions(ocr: list[dict], known_brands: dict[str, str]) -> list[dict]:
    """Brand suggestions: words (or word pairs) on the photo that are known brands."""
    if not known_brands:
        return []
    out, seen = [], set()
    for line in ocr:
        for phrase in candidate_words(str(line.get("text", ""))):
            brand = known_brands.get(phrase.casefold())
            if brand and brand.casefold() not in seen:
                seen.add(brand.casefold())
                out.append({"field": "brand", "value": brand, "source": "photo text", "score": None,
                            "why": f"“{phrase}” on {line.get('image') or 'the photo'} is a known brand"})
    return out


def candidate_words(text: str) -> list[str]:
    """Single words and adjacent pairs of a line, as brand look-up keys."""
    words = re.findall(r"[^\W_][\w&'.-]*", text)
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])] + ([text.strip()] if len(words) > 2 else [])


def _size_and_centrality(line: dict) -> tuple[float | None, float]:
    box, height, width = line.get("box"), line.get("height"), line.get("width")
    if not box or not height or not width:
        return None, 0.0
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = box[:4]
    text_height = (math.hypot(x3 - x0, y3 - y0) + math.hypot(x2 - x1, y2 - y1)) / 2
    cx, cy = (x0 + x1 + x2 + x3) / 4, (y0 + y1 + y2 + y3) / 4
    distance = math.hypot((cx - width / 2) / (width / 2), (cy - height / 2) / (height / 2)) / math.sqrt(2)
    return text_height / height, max(0.0, 1.0 - distance)

"""The offline extractor: order lines, wanted date and address hint read from a message.

A message is cut into pieces at commas, "and", "plus", semicolons and line breaks. In each
piece a quantity ("3", "three", "a dozen", "2x", "x3"), a unit ("boxes of", "pcs") and the
remaining words as the product reference are looked for; the reference is matched to the
catalogue by SKU first (exact token), then by fuzzy title/alias (app.analysis.matching).
A line's confidence is the match score, lowered when the quantity was only implied or when a
second catalogue row scores almost as well. The message's confidence is its weakest line's
(0 when nothing was found), so one doubtful line sends the whole message to review.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from app.analysis.matching import CatalogueEntry, match_text
from app.inbox import pii

WORD_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100, "a couple of": 2, "couple of": 2,
    "a dozen": 12, "dozen": 12, "half a dozen": 6, "a pair of": 2, "pair of": 2,
}
UNITS = {
    "box": "box", "boxes": "box", "case": "case", "cases": "case", "pack": "pack", "packs": "pack",
    "pcs": "pcs", "pc": "pcs", "piece": "pcs", "pieces": "pcs", "unit": "pcs", "units": "pcs",
    "dozen": "dozen", "dozens": "dozen", "pair": "pair", "pairs": "pair", "each": "pcs",
}
FILLER = {
    "hi", "hello", "hey", "dear", "please", "pls", "plz", "send", "sending", "could", "can", "would", "you",
    "me", "us", "we", "i", "i'd", "id", "like", "need", "want", "order", "ordering", "thanks", "thank",
    "also", "some", "more", "of", "the", "to", "for", "get", "give", "ship", "deliver", "another", "x",
    "and", "plus", "again", "cheers", "regards", "as", "well", "too", "with", "our", "my", "your", "usual",
}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

_NUMBER_WORDS = "|".join(sorted((re.escape(w) for w in WORD_NUMBERS), key=len, reverse=True))
_UNIT_WORDS = "|".join(sorted(UNITS, key=len, reverse=True))
_SPLIT = re.compile(r"[,;\n]+|\s+(?:and|plus|&|\+)\s+|(?<=[a-z0-9])\.\s+", re.IGNORECASE)
_ADDRESS = re.compile(r"\b(?:deliver(?:ed)?\s+to|ship(?:ped)?\s+to|send\s+(?:it|them)\s+to|address(?:\s+is)?:?)\s+"
                      r"(?P<addr>[^.\n]+)", re.IGNORECASE)
_DATE_PATTERNS = [
    re.compile(r"\b(?:by|on|for|before|until)?\s*(?P<rel>today|tonight|tomorrow|day after tomorrow)\b", re.I),
    re.compile(r"\b(?:by|on|for|before|until)?\s*(?:next\s+)?(?P<dow>" + "|".join(WEEKDAYS) + r")\b", re.I),
    re.compile(r"\b(?:by|on|for|before|until)?\s*(?P<iso>\d{4}-\d{2}-\d{2})\b", re.I),
    re.compile(r"\b(?:by|on|for|before|until)?\s*(?P<day>\d{1,2})[/.](?P<month>\d{1,2})(?:[/.](?P<year>\d{2,4}))?\b", re.I),
    re.compile(r"\b(?:by|on|for|before|until)?\s*(?P<dn>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mname>"
               + "|".join(MONTHS) + r")[a-z]*\b", re.I),
    re.compile(r"\b(?:by|on|for|before|until)?\s*next\s+week\b", re.I),
]


@dataclass
class LineResult:
    quantity: int | None
    unit: str
    product_text: str
    entry: CatalogueEntry | None
    confidence: int
    evidence: dict = field(default_factory=dict)


@dataclass
class ExtractionResult:
    lines: list[LineResult]
    confidence: int
    wanted_date: date | None = None
    wanted_text: str = ""
    address_hint: str = ""
    reasons: list[str] = field(default_factory=list)


def wanted_date(text: str, received: datetime) -> tuple[date | None, str, str]:
    """(date, the words that said it, the text without them); relative words count from `received`."""
    today = received.date()
    for pattern in _DATE_PATTERNS:
        m = pattern.search(text)
        if not m:
            continue
        found = _resolve_date(m, today)
        if found is not None:
            return found, m.group().strip(), (text[:m.start()] + " " + text[m.end():]).strip()
    return None, "", text


def _resolve_date(m: re.Match, today: date) -> date | None:
    groups = m.groupdict()
    if groups.get("rel"):
        rel = groups["rel"].lower()
        return today + timedelta(days={"today": 0, "tonight": 0, "tomorrow": 1}.get(rel, 2))
    if groups.get("dow"):
        ahead = (WEEKDAYS.index(groups["dow"].lower()) - today.weekday()) % 7
        return today + timedelta(days=ahead or 7)
    try:
        if groups.get("iso"):
            return date.fromisoformat(groups["iso"])
        if groups.get("day"):
            year = int(groups["year"]) if groups.get("year") else today.year
            year = year + 2000 if year < 100 else year
            found = date(year, int(groups["month"]), int(groups["day"]))
            return found if groups.get("year") or found >= today else date(year + 1, found.month, found.day)
        if groups.get("dn"):
            found = date(today.year, MONTHS.index(groups["mname"][:3].lower()) + 1, int(groups["dn"]))
            return found if found >= today else date(today.year + 1, found.month, found.day)
    except ValueError:
        return None
    if "next week" in m.group().lower():
        return today + timedelta(days=7 - today.weekday())
    return None


def address_hint(text: str) -> tuple[str, str]:
    """("12 High St, Leeds", the text without it) when the message says where to deliver."""
    m = _ADDRESS.search(text)
    if not m:
        return "", text
    return m.group("addr").strip(" ,"), text[:m.start()]


_QTY_PATTERNS = [
    re.compile(r"^(?P<n>\d+)\s*x\b\s*(?P<rest>.*)$", re.I),  # 2x widget, 2 x widget
    re.compile(r"^(?P<rest>.*?)\s*\bx\s*(?P<n>\d+)$", re.I),  # widget x3
    re.compile(rf"^(?P<n>\d+)\s*(?P<unit>{_UNIT_WORDS})?\b\s*(?:of\s+)?(?P<rest>.*)$", re.I),
    re.compile(rf"^(?P<w>{_NUMBER_WORDS})\s+(?:(?P<unit>{_UNIT_WORDS})\s+)?(?:of\s+)?(?P<rest>.*)$", re.I),
    re.compile(rf"^(?P<rest>.*?)\s+(?P<n>\d+)\s*(?P<unit>{_UNIT_WORDS})?$", re.I),  # widget 5 pcs
]


def _strip_filler(words: list[str]) -> list[str]:
    while words and words[0].lower().strip("'") in FILLER:
        words = words[1:]
    while words and words[-1].lower() in FILLER:
        words = words[:-1]
    return words


def quantity_of(piece: str) -> tuple[int | None, str, str]:
    """(quantity, unit, product words) of one piece of a message."""
    words = _strip_filler(re.findall(r"[\w'./#-]+", piece))
    text = " ".join(words)
    for pattern in _QTY_PATTERNS:
        m = pattern.match(text)
        if not m:
            continue
        groups = m.groupdict()
        number = int(groups["n"]) if groups.get("n") else WORD_NUMBERS[groups["w"].lower()]
        unit = UNITS.get((groups.get("unit") or "").lower(), "")
        if unit == "dozen":
            number, unit = number * 12, "pcs"
        if groups.get("w", "").lower().endswith("dozen"):
            unit = "pcs"
        rest = " ".join(_strip_filler(groups["rest"].split()))
        if rest and number > 0:
            return number, unit, rest
    return None, "", text


def _skus(entries: list[CatalogueEntry]) -> dict[str, CatalogueEntry]:
    return {e.sku.lower(): e for e in entries if e.sku}


def match_product(product_text: str, entries: list[CatalogueEntry], skus: dict[str, CatalogueEntry]
                  ) -> tuple[CatalogueEntry | None, int, dict]:
    """The catalogue row a product reference names, its score 0..100 and the evidence."""
    for token in re.findall(r"[\w./#-]+", product_text):
        entry = skus.get(token.lower().strip("#."))
        if entry is not None:
            return entry, 100, {"method": "sku", "words": token, "matched": entry.sku, "score": 100}
    matches = match_text([product_text], entries, limit=3, min_score=55)
    if not matches:
        return None, 0, {"method": "none", "words": product_text, "score": 0}
    best = matches[0]
    score = best.score
    evidence = {"method": best.matched_field, "words": product_text, "matched": best.matched_text,
                "score": best.score}
    exact = best.score >= 99.5 and best.matched_text.lower() in product_text.lower()
    if len(matches) > 1 and matches[1].entry.key != best.entry.key and best.score - matches[1].score < 5 \
            and not exact:
        score -= 20  # two rows fit about equally: a person must choose
        evidence["also"] = [{"matched": m.matched_text, "score": m.score} for m in matches[1:]]
    return best.entry, int(round(score)), evidence


def extract(text: str, received: datetime, entries: list[CatalogueEntry]) -> ExtractionResult:
    """Read order lines, wanted date and address hint from a message."""
    reasons: list[str] = []
    address, rest = address_hint(pii.remove(text))
    when, when_text, rest = wanted_date(rest, received)
    skus = _skus(entries)
    lines: list[LineResult] = []
    for piece in _SPLIT.split(rest):
        if not piece or not piece.strip():
            continue
        quantity, unit, product = quantity_of(piece)
        if not product:
            continue
        entry, score, evidence = match_product(product, entries, skus)
        if entry is None and quantity is None:
            continue  # a greeting or a remark, not an order line
        confidence = score
        if quantity is None:
            confidence = min(confidence, 60)
            evidence["quantity"] = "not stated"
        lines.append(LineResult(quantity=quantity, unit=unit, product_text=product[:300], entry=entry,
                                confidence=max(0, min(100, confidence)), evidence=evidence))
    if not lines:
        reasons.append("No order lines recognised.")
    for n, line in enumerate(lines, start=1):
        if line.entry is None:
            reasons.append(f"Line {n}: “{line.product_text}” matches no catalogue item.")
        elif line.quantity is None:
            reasons.append(f"Line {n}: no quantity stated.")
        elif "also" in line.evidence:
            reasons.append(f"Line {n}: more than one catalogue item fits “{line.product_text}”.")
    overall = min((line.confidence for line in lines), default=0)
    return ExtractionResult(lines=lines, confidence=overall, wanted_date=when, wanted_text=when_text,
                            address_hint=address, reasons=reasons)

"""The offline extractor: what the inbox, `flask inbox read` and the bench all call.

The reading itself (kind, lines, parts not understood, the one-click rule) is
app.inbox.reading; this module adds the wanted date and the delivery address, and turns a
reading into the result the inbox stores and the JSON the command prints. A line's confidence
is its product match's; the message's is its weakest line's (0 when nothing was found).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from app.analysis.matching import CatalogueEntry
from app.inbox import pii
from app.inbox.reading import Catalogue, Reading, read

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

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
    kind: str = "order"
    not_understood: list[dict] = field(default_factory=list)
    one_click: bool = False
    usual: str = ""


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


def _line(line) -> LineResult:
    product = line.product
    evidence = {"method": product.method, "words": line.text, "matched": product.entry.name,
                "score": product.confidence}
    if product.candidates:
        evidence["also"] = [{"matched": c["title"], "score": c["score"]} for c in product.candidates]
    if product.unknown_words:
        evidence["unknown_words"] = product.unknown_words
    if line.approx:
        evidence["quantity"] = "approximate"
    return LineResult(quantity=line.quantity, unit=line.unit, product_text=line.text[:300], entry=product.entry,
                      confidence=product.confidence, evidence=evidence)


def result_of(reading: Reading, threshold: int) -> ExtractionResult:
    """The inbox's result for a reading: matched lines, parts not understood, and whether one click may do."""
    lines = [_line(line) for line in reading.lines]
    reasons = reading.blocking()
    for n, line in enumerate(lines, start=1):
        if line.confidence < threshold:
            reasons.append(f"Line {n}: confidence {line.confidence} is below the threshold of {threshold}.")
    return ExtractionResult(lines=lines, confidence=reading.confidence, reasons=reasons, kind=reading.kind,
                            not_understood=[p.as_dict() for p in reading.parts],
                            one_click=reading.one_click(threshold), usual=reading.usual)


def extract(text: str, received: datetime, entries: list[CatalogueEntry], threshold: int = 80,
            catalogue: Catalogue | None = None) -> ExtractionResult:
    """Read kind, order lines, parts not understood, wanted date and address hint from a message."""
    result = result_of(read(text, catalogue or Catalogue(entries)), threshold)
    address, rest = address_hint(pii.remove(text))
    result.wanted_date, result.wanted_text, _ = wanted_date(rest, received)
    result.address_hint = address
    return result


def as_json(text: str, result: ExtractionResult) -> dict:
    """The line `flask inbox read --json` prints for one message."""
    return {"text": text, "kind": result.kind, "one_click": result.one_click, "confidence": result.confidence,
            "lines": [{"sku": line.entry.sku if line.entry else None, "quantity": line.quantity, "unit": line.unit,
                       "confidence": line.confidence} for line in result.lines],
            "not_understood": result.not_understood}


def entries_from_json(rows: list[dict]) -> list[CatalogueEntry]:
    """Catalogue rows {"sku", "title", "aliases"} as the matcher's entries."""
    return [CatalogueEntry(key=f"sku:{row['sku']}", name=str(row.get("title") or ""), sku=str(row["sku"]),
                           aliases=tuple(str(a) for a in row.get("aliases") or ())) for row in rows if row.get("sku")]

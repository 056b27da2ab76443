"""Product numbers read from the digits printed under a barcode, and how they settle the bars.

Under an EAN-13 the number is printed as "9 780804 816632"; under a UPC-A as "0 75720 00325 9";
books also print "ISBN 978-0-8048-1663-2" (or an older ISBN-10) above the bars. OCR returns
text boxes. A GTIN is taken only from ONE box whose whole text has the printed layout (an
optional "EAN"/"UPC"/"GTIN" label, the digits in their usual groups), with the right length and
a valid check digit, never by joining boxes: joining digits across boxes makes wrong numbers
whose check digit passes one time in ten. A contiguous twelve-digit box is not read as a UPC-A:
it is what OCR makes of an EAN-13 whose separate first digit it missed.

Shorter digit runs ("75720", "00325") cannot make a GTIN, but they can confirm one the bars
gave: a bar reading that contains printed runs of at least CORROBORATING_DIGITS digits in all
is what the photo says, even when only one transformed copy decoded it (see `reconcile`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from app.analysis.barcodes import PLAIN_VOTES, Candidate, is_valid_gtin, normalise_gtin, settled

# A printed-only GTIN needs the recogniser to be this sure of its box: a two-digit misread
# passes the check digit one time in ten, and misreads come with lower confidence.
PRINTED_MIN_CONFIDENCE = 0.9
CORROBORATING_DIGITS = 8
MIN_RUN = 5
# A printed number this close to a bar reading (digits differing) is a misread of the same symbol.
SAME_SYMBOL_DIFFERENCES = 3

_LABEL = r"(?:(?:EAN|UPC|GTIN)(?:[- ]?(?:13|12|A))?[:#\s-]*)?"
_SEP = r"[\s\"'#.:*-]?"
_EAN13 = re.compile(rf"^{_LABEL}(\d)\s?(\d{{6}}){_SEP}(\d{{6}})$", re.IGNORECASE)
_UPCA = re.compile(rf"^{_LABEL}(\d)\s(\d{{5}}){_SEP}(\d{{5}})\s(\d)$", re.IGNORECASE)
_ISBN = re.compile(r"\bISBN(?:[- ]?1[03])?[:\s]*((?:97[89][\s-]?)?\d[\d\s-]{7,14}[\dXx])\b", re.IGNORECASE)
_RUN = re.compile(rf"\d{{{MIN_RUN},}}")


@dataclass(frozen=True)
class PrintedCode:
    """A GTIN read from one OCR box; `kind` is "digits", "isbn-13" or "isbn-10"."""

    gtin: str
    text: str
    kind: str
    confidence: float = 1.0


@dataclass(frozen=True)
class PrintedDigits:
    """What the photo's text says about product numbers: whole codes, and digit runs."""

    codes: tuple[PrintedCode, ...] = ()
    runs: tuple[str, ...] = ()

    def corroborates(self, gtin: str) -> bool:
        """True when printed runs inside `gtin` (13 digits) add up to CORROBORATING_DIGITS."""
        if any(c.gtin == gtin for c in self.codes):
            return True
        covered = [False] * len(gtin)
        for run in self.runs:
            start = gtin.find(run)
            if start >= 0:
                covered[start:start + len(run)] = [True] * len(run)
        return sum(covered) >= CORROBORATING_DIGITS


@dataclass(frozen=True)
class ReadCode:
    """A code the photo holds: `source` is "bars" (decoded) or "printed digits" (read from the
    text only); `printed_agree` says the printed digits confirm decoded bars; `why` in words."""

    format: str
    text: str
    source: str
    why: str
    printed_agree: bool = False

    @property
    def gtin(self) -> str | None:
        return normalise_gtin(self.text) if self.format in _RETAIL_OR_PRINTED else None

    def as_json(self) -> dict:
        return {"format": self.format, "text": self.text, "source": self.source,
                "printed_digits_agree": self.printed_agree, "why": self.why}


_RETAIL_OR_PRINTED = {"EAN-13", "EAN-8", "UPC-A", "UPC-E", "ISBN"}


def read_printed(lines: Iterable[tuple[str, float]]) -> PrintedDigits:
    """Whole GTINs and digit runs from OCR boxes given as (text, confidence)."""
    codes: list[PrintedCode] = []
    runs: list[str] = []
    for text, confidence in lines:
        text = " ".join(str(text).split())
        for code in _codes_in(text, confidence):
            if code.gtin not in (c.gtin for c in codes):
                codes.append(code)
        runs += [r for r in _RUN.findall(re.sub(r"[\s\"'#.:*-]", " ", text)) if r not in runs]
    return PrintedDigits(codes=tuple(codes), runs=tuple(runs))


def _codes_in(text: str, confidence: float) -> list[PrintedCode]:
    found = []
    for match in _ISBN.finditer(text):
        gtin, kind = _isbn_to_gtin(match.group(1))
        if gtin:
            found.append(PrintedCode(gtin, text, kind, confidence))
    box = text.strip(" <>")
    m = _EAN13.match(box)
    if m:
        digits = "".join(m.groups())
        if is_valid_gtin(digits):
            found.append(PrintedCode(digits, text, "digits", confidence))
    m = _UPCA.match(box)
    if m:
        digits = "".join(m.groups())
        if is_valid_gtin(digits):
            found.append(PrintedCode("0" + digits, text, "digits", confidence))
    return found


def _isbn_to_gtin(raw: str) -> tuple[str | None, str]:
    chars = re.sub(r"[\s-]", "", raw).upper()
    if len(chars) == 13 and chars.isdigit() and chars[:3] in ("978", "979") and is_valid_gtin(chars):
        return chars, "isbn-13"
    if len(chars) == 10 and chars[:9].isdigit() and (chars[9].isdigit() or chars[9] == "X"):
        total = sum((10 - i) * int(d) for i, d in enumerate(chars[:9]))
        check = 10 if chars[9] == "X" else int(chars[9])
        if (total + check) % 11 == 0:
            body = "978" + chars[:9]
            weighted = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
            return body + str((10 - weighted % 10) % 10), "isbn-10"
    return None, ""


def reconcile(candidates: list[Candidate], printed: PrintedDigits) -> list[ReadCode]:
    """The codes to believe, from bar candidates (with votes) and the printed digits.

    1. Where bar readings compete at one place, the one the printed digits confirm wins;
       otherwise the votes decide (`app.analysis.barcodes.settled`).
    2. A retail reading too weak for the votes alone (one copy decoded it) stands when the
       printed digits confirm it.
    3. A printed GTIN no bar reading gave is added, unless it is a near copy of a bar reading
       (a misread of the same symbol) or the recogniser was unsure of its box.
    """
    kept: dict[str, ReadCode] = {}
    confirmed = {c.text for c in candidates if c.retail and printed.corroborates(normalise_gtin(c.text) or "")}
    by_votes = {c.text for c in settled(candidates)}
    for c in candidates:
        rivals_confirmed = any(t in confirmed for t in c.conflicts)
        if c.text in confirmed and not any(t in confirmed for t in c.conflicts):
            kept[c.text] = ReadCode(c.format, c.text, "bars", _votes_why(c) + "; the printed digits agree",
                                    printed_agree=True)
        elif c.text in by_votes and not rivals_confirmed:
            kept[c.text] = ReadCode(c.format, c.text, "bars", _votes_why(c))
    bar_gtins = {normalise_gtin(c.text) for c in candidates if c.retail}
    for code in printed.codes:
        if code.gtin in (normalise_gtin(t) for t in kept) or code.confidence < PRINTED_MIN_CONFIDENCE:
            continue
        if any(g and _differences(g, code.gtin) <= SAME_SYMBOL_DIFFERENCES for g in bar_gtins):
            continue  # the bars read this symbol differently: trust neither copy of it here
        label = {"digits": "printed digits", "isbn-13": "ISBN line", "isbn-10": "ISBN-10 line"}[code.kind]
        kept[code.gtin] = ReadCode("ISBN" if code.kind != "digits" else _printed_format(code.gtin), code.gtin,
                                   "printed digits", f"read from the {label} “{code.text}”")
    return list(kept.values())


def _votes_why(c: Candidate) -> str:
    copies = c.votes - PLAIN_VOTES if c.plain else c.votes
    if c.plain:
        return "decoded from the photo" + (f", and from {copies} transformed cop{'y' if copies == 1 else 'ies'}"
                                           if copies else "")
    return f"decoded from {copies} transformed cop{'y' if copies == 1 else 'ies'} of the photo"


def _printed_format(gtin: str) -> str:
    return "UPC-A" if len(gtin) == 13 and gtin.startswith("0") else "EAN-13"


def _differences(a: str, b: str) -> int:
    if len(a) != len(b):
        return max(len(a), len(b))
    return sum(x != y for x, y in zip(a, b))


def read_codes(image, ocr_lines: Iterable[tuple[str, float]], *, time_budget: float = 1.5,
               candidates: list[Candidate] | None = None) -> list[ReadCode]:
    """Barcodes of an already loaded image, settled with the digits OCR read on it.

    `candidates`: the image's first reading (`read_candidates`), when it was done before OCR."""
    from app.analysis.barcodes import read_candidates

    printed = read_printed(ocr_lines)
    if candidates is None:
        candidates = read_candidates(image, time_budget=time_budget)
    if _worth_a_full_read(candidates, printed):
        # The printed digits name a number no reading gave: read every copy, maybe one decodes it.
        candidates = read_candidates(image, time_budget=time_budget, full=True)
    return reconcile(candidates, printed)


def _worth_a_full_read(candidates: list[Candidate], printed: PrintedDigits) -> bool:
    if sum(len(r) for r in printed.runs) < CORROBORATING_DIGITS and not printed.codes:
        return False
    return not any(c.retail and printed.corroborates(normalise_gtin(c.text) or "") for c in candidates)

"""A cleaned message as tokens with their positions and roles.

Numbers that are prices, dates, times, sizes, references or parts of an address are marked
first (on the whole text, with the words around them), so that only the numbers left can be
quantities. Sizes ("45cm", "3 mm") are kept as variant words for the product match.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from app.inbox.reading import words
from app.inbox.reading.forms import fold

_MONTHS = (r"jan(?:uary|vier|eiro)?|feb(?:ruary|rero|ruar)?|fev(?:rier|ereiro)?|mar(?:ch|s|zo|z|co)?|maerz|apr(?:il|ile)?"
           r"|avr(?:il)?|abr(?:il)?|may|mai|mayo|maggio|maio|jun(?:e|io|i|ho)?|juin|giugno|jul(?:y|io|i|ho)?|juil(?:let)?"
           r"|luglio|aug(?:ust)?|aout|ago(?:sto)?|sep(?:t(?:ember|iembre|embre)?)?|settembre|setembro|oct(?:ober|obre|ubre)?"
           r"|okt(?:ober)?|ott(?:obre)?|outubro|nov(?:ember|iembre|embre|embro)?|dec(?:ember|embre)?|dic(?:iembre|embre)?"
           r"|dezember|dezembro|gennaio|febbraio|aprile|giugno|janv")
_CURRENCY = r"(?:[$€£¥]|r\$|eur|euros?|usd|gbp|chf|dollars?|pounds?|reais|real|pesos?|pln|zl|sek|dkk|nok)"
_SIZE_UNITS = (r"(?:mm|cm|m|mtrs?|meters?|metres?|metros?|metri|inch(?:es)?|ft|g|gr|grams?|gramm|gramos|kg|ml|cl|l"
               r"|oz|lbs?|kt|k|ct|carats?|karat|quilates|gauge|%|mah|x\d+\s?(?:mm|cm))")
_NOT_QUANTITY = [
    ("price", rf"{_CURRENCY}\s?\d+(?:[.,]\d+)?|\d+(?:[.,]\d+)?\s?{_CURRENCY}(?![a-z])"),
    ("size", rf"\d+(?:[.,]\d+)?(?:\s?x\s?\d+(?:[.,]\d+)?)?\s?{_SIZE_UNITS}(?![a-z])|\d+(?:[.,]\d+)?\s?[\"”″]"),
    ("size", r"(?:\b(?:size|taille|talla|gros?se|taglia|tamanho|gr\.|t\.|no\.|nr\.?|n[°ºo]\.?)|#)\s?\d+[a-z]?\b"),
    ("date", r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}(?:[./-]\d{2,4})?(?!\d)"),
    ("date", rf"\d{{1,2}}(?:st|nd|rd|th|er|eme|e|º|ª|o|a|\.)?\s?(?:de\s|of\s|di\s)?(?:{_MONTHS})\b\.?(?:\s?\d{{4}})?"),
    ("date", rf"(?:{_MONTHS})\b\.?\s?\d{{1,2}}(?:st|nd|rd|th)?\b"),
    ("date", r"\b(?:19|20)\d{2}\b(?!\s?(?:pcs|pieces|x\b))"),
    ("date", r"\d{1,2}(?:st|nd|rd|th)\b|\b(?:le|el|am|il|dia|the|on|by|for|before|until|avant|antes|bis|entro|ate)"
             r"\s(?:de\s)?\d{1,2}\.?(?=\s?(?:$|[.,;!?\n]|de\b|of\b))"),
    ("time", r"\d{1,2}[:h]\d{2}\b|\d{1,2}\s?(?:am|pm|h|uhr|heures?|hrs?|horas?|ore|o'clock)\b"),
    ("ref", r"(?:order|commande|pedido|bestellung|auftrag|ordine|encomenda|invoice|facture|factura|rechnung|fattura"
            r"|fatura|ref|reference|referencia|riferimento|tracking|suivi|seguimiento|sendung|account|compte|cuenta"
            r"|konto|conto|client|cliente|kunde|kundennummer)\b\.?\s?(?:n[°ºo]\.?|no\.?|nr\.?|number|numero|nummer)?"
            r"\s?[:#]?\s?[a-z]{0,4}-?\d{3,}[\w-]*"),
    ("address", r"\d+[a-z]?,?\s(?:rue|avenue|av\.?|bd|boulevard|chemin|allee|impasse|place|calle|avda\.?|avenida|plaza"
                r"|paseo|camino|via|viale|piazza|corso|vicolo|rua|travessa|largo|praca|street|st\.?|road|rd\.?|lane"
                r"|ln\.?|ave\.?|drive|square|crescent|terrace|gardens)\b"),
    ("address", r"(?:strasse|str\.|weg|platz|gasse|allee|damm|calle|c/|carrer|via|viale|piazza|corso|rua|avenida"
                r"|rue|street|road)\s[^\n\d,;]{0,40}?\d+[a-z]?\b|\b[a-z]{3,}(?:strasse|str\.|weg|platz|gasse)\s?\d+[a-z]?\b"),
    ("address", r"\b\d{4}-\d{3}\b|\b\d{5}\s(?=[A-Z][a-z])|\b[a-z]{1,2}\d[a-z\d]?\s\d[a-z]{2}\b"),
    ("address", r"\d+[a-z]?\s(?:[a-z]+\s){1,3}(?:street|road|lane|avenue|drive|close|crescent|terrace|gardens|place"
                r"|square|st|rd|ave)\b"),
    ("decimal", r"(?!\d{1,3}(?:[.,]\d{3})+(?![.,]?\d))\d+[.,]\d+"),
    ("ordinal", r"\d+(?:st|nd|rd|th|er|eme|º|ª)\b"),
]
_NOT_QUANTITY = [(kind, re.compile(p, re.I)) for kind, p in _NOT_QUANTITY]
_TOKEN = re.compile(r"[A-Za-z]{1,8}[-_/.]?\d[\w/-]*|\d+(?:[.,]\d{3})+(?![.,]?\d)|\d+[A-Za-z\"”″]*"
                    r"|[^\W\d_]+(?:-[^\W\d_]+)*|[×*](?=\s?\d)|\n|[?¿!.,;:()+&~#/=-]")
_THOUSANDS = re.compile(r"\d{1,3}(?:[.,]\d{3})+")


@dataclass
class Token:
    text: str
    start: int
    end: int
    kind: str
    norm: str = ""
    value: object = None

    @property
    def quantity(self) -> int | None:
        return self.value if self.kind in ("num", "numword", "weak") else None


_LIST_MARK = re.compile(r"(?m)^[ \t]*(\d{1,2})([.)])[ \t]+(?=\S)")


def _list_marks(text: str) -> list[tuple[int, int, str]]:
    """"1) …" always, "1. … 2. …" when the lines count up from one: numbering, not quantities."""
    found = list(_LIST_MARK.finditer(text))
    dotted = [m for m in found if m.group(2) == "."]
    counts_up = [int(m.group(1)) for m in dotted] == list(range(1, len(dotted) + 1)) and len(dotted) > 1
    return [(m.start(1), m.end(2), "list") for m in found if m.group(2) == ")" or counts_up]


def number_spans(text: str) -> list[tuple[int, int, str]]:
    """Where the text's numbers are prices, sizes, dates, times, references, addresses, decimals or numbering."""
    folded = fold(text)
    spans: list[tuple[int, int, str]] = _list_marks(text)
    for kind, pattern in _NOT_QUANTITY:
        for m in pattern.finditer(folded):
            if re.search(r"\d", m.group()) and not any(s <= m.start() and m.end() <= e for s, e, _ in spans):
                spans.append((m.start(), m.end(), kind))
    return sorted(spans)


def _span_of(spans, start: int, end: int) -> tuple[int, int, str] | None:
    for span in spans:
        if span[0] < end and start < span[1]:
            return span
    return None


def tokenize(text: str, variants: frozenset[str] = frozenset()) -> list[Token]:
    """Tokens of a cleaned text; `variants` are the catalogue's own size words ("100pcs", "45cm")."""
    spans = number_spans(text)
    tokens: list[Token] = []
    seen_spans: set[tuple[int, int, str]] = set()
    for m in _TOKEN.finditer(text):
        raw, start, end = m.group(), m.start(), m.end()
        span = _span_of(spans, start, end) if raw != "\n" else None
        if span is not None:
            if span not in seen_spans:
                seen_spans.add(span)
                tokens.append(_span_token(text, span))
            continue
        tokens.extend(_split(raw, start, end, variants))
    return tokens


def _span_token(text: str, span: tuple[int, int, str]) -> Token:
    start, end, kind = span
    raw = text[start:end]
    if kind == "size":
        value = re.sub(r"\s+", "", fold(raw)).replace(",", ".").replace("”", '"').replace("″", '"')
        if not value[:1].isdigit():
            value = re.sub(r"^\D+", "", value)
        return Token(raw, start, end, "size", value, value)
    return Token(raw, start, end, "skip", fold(raw), kind)


def _split(raw: str, start: int, end: int, variants: frozenset[str]) -> list[Token]:
    norm = fold(raw)
    if raw == "\n" or raw in "?¿!.":
        return [Token(raw, start, end, "stop", raw)]
    if raw in "()":
        return [Token(raw, start, end, "paren", raw)]
    if raw in ",;:+&~#/=-":
        return [Token(raw, start, end, "and" if raw in "+&" else "sep", raw)]
    if raw in "×*":
        return [Token(raw, start, end, "mult", "x")]
    if _THOUSANDS.fullmatch(raw):
        return [Token(raw, start, end, "num", norm, int(re.sub(r"\D", "", raw)))]
    m = re.fullmatch(r"(\d+)([a-z\"”″]*)", norm)
    if m:
        return _number(raw, start, end, m, variants)
    m = re.fullmatch(r"[x×](\d+)", norm)
    if m:
        return [Token(raw[0], start, start + 1, "mult", "x"), Token(raw[1:], start + 1, end, "num", m.group(1),
                                                                   int(m.group(1)))]
    if re.search(r"\d", raw):
        return [Token(raw, start, end, "sku", re.sub(r"[-_/.\s]", "", norm))]
    return [Token(raw, start, end, "word", norm)]


def _number(raw: str, start: int, end: int, m: re.Match, variants: frozenset[str]) -> list[Token]:
    digits, suffix = m.group(1), m.group(2)
    value = int(digits)
    number = Token(raw[:len(digits)], start, start + len(digits), "num", digits, value)
    if not suffix:
        return [number]
    rest = Token(raw[len(digits):], start + len(digits), end, "word", suffix)
    if suffix == "x":
        rest.kind, rest.norm = "mult", "x"
        return [number, rest]
    if fold(raw) in variants:
        return [Token(raw, start, end, "size", fold(raw), fold(raw))]
    if suffix in words.UNITS:
        rest.kind, rest.value = "unit", words.UNITS[suffix]
        return [number, rest]
    return [Token(raw, start, end, "sku", fold(raw))]

"""Junk around a message, blanked out for reading: HTML, quoted history, signatures, formulas, links,
emoji and personal data.

Every step replaces characters by spaces (line breaks stay), never deletes them, so a position in
the cleaned text is the same position in the message as received: what the reader could not
understand can be pointed at in the original.
"""
from __future__ import annotations

import html
import re
import unicodedata

from app.inbox import pii
from app.inbox.reading import words
from app.inbox.reading.forms import fold, normal

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>|<!--.*?-->", re.S)
_BLOCK_TAGS = {"br", "p", "div", "tr", "li", "table", "h1", "h2", "h3", "blockquote", "ul", "ol", "hr"}
_HIDDEN = re.compile(r"<(style|script|head)\b.*?</\1\s*>", re.S | re.I)
_QUOTED_HTML = re.compile(r"<blockquote\b.*?</blockquote\s*>", re.S | re.I)
_ENTITY = re.compile(r"&(?:#\d{1,6}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
_FORMULA = re.compile(r"(?<![\w=])[+@-]?=\s*[A-Za-z][A-Za-z0-9._]*\s*(?:\|\s*'[^'\n]*'(?:![\w$]+)?"
                      r"|\([^\n]*?\)(?=\s|$|[,;])|\([^\n]*|[|!][^\s]*)")
_CELL = re.compile(r"\b[A-Z]{1,2}\d{1,4}:[A-Z]{1,2}\d{1,4}\b")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
_HEADERS = [re.compile(p, re.I | re.M) for p in words.QUOTE_HEADERS]
_HEADER_FOLLOWS = re.compile(r"^\s*(sent|date|envoye|enviado|gesendet|datum|inviato|data|to|para|an|subject|objet"
                             r"|asunto|betreff|oggetto|assunto|cc)\s*:", re.I | re.M)
_SENT_FROM = re.compile(words.SENT_FROM, re.I | re.M)


def blank(chars: list[str], start: int, end: int) -> None:
    """Spaces over chars[start:end], line breaks kept."""
    for i in range(max(0, start), min(end, len(chars))):
        if chars[i] != "\n":
            chars[i] = " "


def _html(chars: list[str]) -> None:
    text = "".join(chars)
    if not _TAG.search(text):
        return
    for pattern in (_HIDDEN, _QUOTED_HTML):
        for m in pattern.finditer(text):
            blank(chars, m.start(), m.end())
    for m in _TAG.finditer("".join(chars)):
        blank(chars, m.start(), m.end())
        if m.group(2) and m.group(2).lower() in _BLOCK_TAGS:
            chars[m.start()] = "\n"
    for m in _ENTITY.finditer("".join(chars)):
        value = html.unescape(m.group())
        blank(chars, m.start(), m.end())
        if len(value) == 1 and value.strip() and not unicodedata.category(value).startswith("C"):
            chars[m.start()] = value


def _history(chars: list[str]) -> None:
    text = "".join(chars)
    cut = len(text)
    for pattern in _HEADERS:
        for m in pattern.finditer(fold(text)):
            if pattern.pattern.startswith(r"^\s*(from") and not _HEADER_FOLLOWS.search(text, m.end(), m.end() + 400):
                continue
            cut = min(cut, m.start())
    blank(chars, cut, len(chars))
    for m in re.finditer(r"(?m)^[ \t]*>.*$", text):
        blank(chars, m.start(), m.end())


def _signature(chars: list[str], order_word) -> None:
    text = "".join(chars)
    m = re.search(r"(?m)^--\s*$", text)
    if m:
        blank(chars, m.start(), len(chars))
    for m in _SENT_FROM.finditer(fold(text)):
        blank(chars, m.start(), m.end())
    offset = 0
    lines = text.split("\n")
    for n, line in enumerate(lines):
        folded = re.findall(r"[^\W\d_]+", normal(line))
        rest = lines[n + 1:]
        if _sign_off(folded) and 0 < len(rest) <= 8 \
                and not any(order_word(w) for w in re.findall(r"[^\W\d_]+", "\n".join(rest))):
            blank(chars, offset + len(line), len(chars))
            return
        offset += len(line) + 1


def _sign_off(folded: list[str]) -> bool:
    return bool(folded) and len(folded) <= 4 and any(w in words.SIGN_OFFS for w in folded) \
        and all(w in words.SIGN_OFFS or w in words.FILLER for w in folded)


def _symbols(chars: list[str]) -> None:
    for i, c in enumerate(chars):
        code = ord(c)
        if code >= 0x2190 and (unicodedata.category(c) in ("So", "Sk", "Cn", "Co") or code >= 0x1F000) \
                or code in (0xFE0F, 0x200D, 0x20E3) or 0x1F3FB <= code <= 0x1F3FF:
            chars[i] = " "


def _patterns(chars: list[str]) -> None:
    text = "".join(chars)
    for pattern in (_URL, _FORMULA, _CELL):
        for m in pattern.finditer(text):
            blank(chars, m.start(), m.end())


def clean(text: str, order_word=lambda word: False) -> tuple[str, list[tuple[int, int, str]]]:
    """(the text with junk and personal data blanked, the personal-data spans). Same length as the text.

    `order_word(word)` says whether a word belongs to an order (a unit, a product word), so that a
    short number between a phone number and that word is kept as a quantity.
    """
    chars = list(text.replace("\r\n", " \n").replace("\r", "\n"))
    _html(chars)
    _history(chars)
    _signature(chars, order_word)
    _patterns(chars)
    _symbols(chars)
    cleaned = "".join(chars)
    spans = personal_spans(cleaned, order_word)
    for start, end, _ in spans:
        blank(chars, start, end)
    return "".join(chars), spans


_NUMBER_RUN = re.compile(r"(?<![\w+])\+?\(?\d[\d ().\-/]{5,}\d(?!\w)")


def personal_spans(text: str, order_word) -> list[tuple[int, int, str]]:
    """Phones, card numbers, IBANs and e-mails, with a quantity written next to one left outside it."""
    found = [s for s in pii._spans(text) if s[2] in ("email", "iban")]
    taken = [(s, e) for s, e, _ in found]
    for m in _NUMBER_RUN.finditer(text):
        if any(not (m.end() <= s or m.start() >= e) for s, e in taken):
            continue
        start, end = _trim_quantity(text, m.start(), m.end(), order_word)
        digits = re.sub(r"\D", "", text[start:end])
        if 13 <= len(digits) <= 19 and pii.luhn_ok(digits):
            found.append((start, end, "card"))
        elif 7 <= len(digits) <= 15 and not pii.DATE_LIKE.fullmatch(text[start:end].strip()) \
                and not re.fullmatch(r"\d{1,2}[./]\d{1,2}[./]\d{2,4}", text[start:end].strip()):
            found.append((start, end, "phone"))
    return sorted(found)


def _trim_quantity(text: str, start: int, end: int, order_word) -> tuple[int, int]:
    """Give back a short group at either end of a run of digits when an order word stands right beside it."""
    groups = [(m.start() + start, m.end() + start) for m in re.finditer(r"\d+", text[start:end])]
    after = re.match(r"\s*([^\W\d_]+)", text[end:end + 40])
    last = groups[-1]
    rest_digits = sum(b - a for a, b in groups[:-1])
    if len(groups) > 1 and last[1] - last[0] <= 3 and rest_digits >= 9 and text[last[0] - 1] == " " \
            and after and order_word(after.group(1)):
        end = groups[-2][1]
        groups = groups[:-1]
    before = re.search(r"([^\W\d_]+)\s*$", text[max(0, start - 40):start])
    first = groups[0]
    rest_digits = sum(b - a for a, b in groups[1:])
    if len(groups) > 1 and first[1] - first[0] <= 2 and text[first[0]] != "0" and rest_digits >= 9 \
            and text[start] != "+" and text[first[1]] == " " and before and order_word(before.group(1)):
        start = groups[1][0]
    return start, end

"""Personal data in free text: phone numbers, e-mail addresses, card numbers (Luhn), IBANs (mod 97).

`find` says which kinds are present; `mask` replaces each occurrence, keeping only its last
characters so staff can still tell two numbers apart.
"""
from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
PHONE = re.compile(r"(?<![\w+])\+?\d[\d ().-]{6,}\d(?!\w)")
DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[.-]\d{1,2}[.-]\d{2,4}")


def luhn_ok(digits: str) -> bool:
    """The Luhn check every payment card number passes."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, mod 97 == 1."""
    s = text.replace(" ", "").upper()
    if not 15 <= len(s) <= 34 or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    rearranged = s[4:] + s[:4]
    try:
        return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1
    except ValueError:
        return False


def _spans(text: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e, _ in found)

    for m in IBAN.finditer(text):
        if iban_ok(m.group()):
            found.append((m.start(), m.end(), "iban"))
    for m in EMAIL.finditer(text):
        if free(m.start(), m.end()):
            found.append((m.start(), m.end(), "email"))
    for m in CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits) and free(m.start(), m.end()):
            found.append((m.start(), m.end(), "card"))
    for m in PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 7 <= len(digits) <= 15 and not DATE_LIKE.fullmatch(m.group().strip()) and free(m.start(), m.end()):
            found.append((m.start(), m.end(), "phone"))
    return sorted(found)


def find(text: str | None) -> list[str]:
    """The kinds of personal data in the text, sorted, each once."""
    return sorted({kind for _, _, kind in _spans(text or "")})


def _masked(value: str, kind: str) -> str:
    if kind == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    keep = 4 if kind in ("card", "iban", "phone") else 0
    tail = re.sub(r"[^A-Za-z0-9]", "", value)[-keep:] if keep else ""
    return f"[{kind} …{tail}]"


def mask(text: str | None, kinds: tuple[str, ...] = ("phone", "email", "card", "iban")) -> str:
    """The text with every phone, e-mail, card number and IBAN (or only the given kinds) masked."""
    text = text or ""
    out, last = [], 0
    for start, end, kind in _spans(text):
        if kind not in kinds:
            continue
        out.append(text[last:start])
        out.append(_masked(text[start:end], kind))
        last = end
    out.append(text[last:])
    return "".join(out)


def remove(text: str | None) -> str:
    """The text with personal data cut out (so a card number is never read as a quantity)."""
    text = text or ""
    out, last = [], 0
    for start, end, _ in _spans(text):
        out.append(text[last:start])
        out.append(" ")
        last = end
    out.append(text[last:])
    return "".join(out)

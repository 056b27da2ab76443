"""Displayed prices with their currencies, as ``Decimal`` (never float).

Why not ``price-parser``: it is built to pull a price out of any text and so is lenient where an
import must refuse. Tried on our formats, it read ``0,125 EUR`` as 125, ``US $2.91 €3`` as 291.3,
accepted ``1,23,4.00 USD`` and ``12 34,5 zł``, and returns symbols (``$``, ``zł``) instead of ISO codes.
The rules below are strict and say why a price was refused.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Money:
    """An amount and its ISO 4217 currency code."""

    amount: Decimal
    currency: str


# ISO 4217 codes accepted when written out ("PLN 12,00", "1,234.56 USD").
KNOWN_CURRENCIES = frozenset(
    "USD EUR PLN GBP CHF CZK HUF SEK NOK DKK RON BGN UAH RUB TRY ILS CAD AUD NZD MXN BRL ARS CLP COP PEN JPY CNY "
    "HKD TWD KRW SGD MYR THB IDR PHP VND INR PKR AED SAR QAR KWD BHD OMR ZAR EGP NGN KZT".split()
)

# Currency symbols and prefixes, looked up lower-cased with spaces removed ("US $" -> "us$").
SYMBOLS: dict[str, str] = {
    "us$": "USD", "usd$": "USD", "ca$": "CAD", "c$": "CAD", "au$": "AUD", "a$": "AUD", "nz$": "NZD", "hk$": "HKD",
    "s$": "SGD", "mx$": "MXN", "r$": "BRL", "cn¥": "CNY", "rmb": "CNY", "$": "USD", "€": "EUR", "£": "GBP",
    "zł": "PLN", "zl": "PLN", "kč": "CZK", "ft": "HUF", "₽": "RUB", "руб": "RUB", "руб.": "RUB", "₴": "UAH",
    "грн": "UAH", "₺": "TRY", "₪": "ILS", "₹": "INR", "₩": "KRW", "lei": "RON", "лв": "BGN", "лв.": "BGN",
}

# Spaces used as thousands separators in some locales ("1 234,56 zł").
_SPACES = "\u0020\u00a0\u202f\u2009\u2007"
_NUMBER_RE = re.compile(r"[0-9][0-9.,'’" + _SPACES + r"]*")


def _currency_from_marker(marker: str) -> str | None:
    """Currency code for a symbol/code written before or after the number."""
    key = re.sub(r"\s+", "", marker).lower()
    if not key:
        return None
    if key.upper() in KNOWN_CURRENCIES:
        return key.upper()
    if key in SYMBOLS:
        return SYMBOLS[key]
    raise ValueError(f"unknown currency {marker.strip()!r}")


def _check_groups(integer: str, sep: str) -> None:
    groups = integer.split(sep)
    if not (1 <= len(groups[0]) <= 3) or not all(len(g) == 3 for g in groups[1:]):
        raise ValueError(f"thousands separator {sep!r} is not followed by groups of 3 digits")


def _without_space_groups(text: str) -> str:
    """Remove spaces/apostrophes grouping thousands; every group after the first has 3 digits."""
    for space in _SPACES + "'’":
        if space in text:
            parts = text.split(space)
            head, tail = parts[0], parts[1:]
            last = re.split(r"[.,]", tail[-1], maxsplit=1)[0]
            if not head or not all(len(g) == 3 and g.isdigit() for g in [*tail[:-1], last]):
                raise ValueError("digit groups are not separated consistently")
            text = text.replace(space, "")
    return text


def parse_number(raw: str) -> Decimal:
    """Turn ``1,234.56`` / ``1.234,56`` / ``1 234,56`` / ``2.91`` into a Decimal.

    Rules: when both ``.`` and ``,`` occur, the last one is the decimal separator and the
    other one must group thousands. When only one kind occurs: several of them are thousands
    separators; a single one followed by exactly three digits (``1,234``) is a thousands
    separator unless the integer part is ``0``; otherwise it is the decimal separator.
    """
    text = _without_space_groups(raw.strip(_SPACES))
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        decimal_sep = "." if text.rfind(".") > text.rfind(",") else ","
        group_sep = "," if decimal_sep == "." else "."
        if text.count(decimal_sep) > 1:
            raise ValueError(f"more than one decimal separator {decimal_sep!r}")
        integer, fraction = text.split(decimal_sep)
        _check_groups(integer, group_sep)
        integer = integer.replace(group_sep, "")
    elif dots or commas:
        sep = "." if dots else ","
        parts = text.split(sep)
        if len(parts) > 2:
            _check_groups(text, sep)
            integer, fraction = text.replace(sep, ""), ""
        elif len(parts[1]) == 3 and parts[0] not in ("", "0") and len(parts[0]) <= 3:
            integer, fraction = parts[0] + parts[1], ""
        else:
            integer, fraction = parts
    else:
        integer, fraction = text, ""
    if not integer.isdigit() or (fraction and not fraction.isdigit()):
        raise ValueError("not a number")
    return Decimal(f"{integer}.{fraction}" if fraction else integer)


def _parse_text(original: str, default_currency: str | None) -> Money:
    cleaned = unicodedata.normalize("NFC", original).strip()
    if not cleaned:
        raise ValueError("price is empty")
    negative = cleaned[0] in "-−"
    if negative:
        cleaned = cleaned[1:].strip()
    numbers = list(_NUMBER_RE.finditer(cleaned))
    if not numbers:
        raise ValueError(f"could not parse price {original!r}: no digits")
    if len(numbers) > 1:
        raise ValueError(f"could not parse price {original!r}: more than one number")
    match = numbers[0]
    prefix, suffix = cleaned[: match.start()], cleaned[match.end() :]
    if prefix.rstrip().endswith(("-", "−")):
        negative, prefix = True, prefix.rstrip()[:-1]
    try:
        amount = parse_number(match.group())
        currencies = {c for c in (_currency_from_marker(prefix), _currency_from_marker(suffix)) if c}
    except ValueError as exc:
        raise ValueError(f"could not parse price {original!r}: {exc}") from None
    if len(currencies) > 1:
        raise ValueError(f"could not parse price {original!r}: two different currencies")
    currency = currencies.pop() if currencies else default_currency
    if not currency:
        raise ValueError(f"price {original!r} has no currency and no default was given")
    return Money(-amount if negative else amount, currency.upper())


def parse_price(text: Any, default_currency: str | None = None) -> Money:
    """Parse a displayed price into :class:`Money`.

    Understands ``US $2.91``, ``$2.91``, ``129,46zł``, ``129,46 zł``, ``€1.234,56``,
    ``1,234.56 USD``, ``PLN 12,00``, ``1 234,56 zł`` and a bare ``2.91`` (which needs
    ``default_currency``). Raises ``ValueError`` with the reason on anything else.
    """
    if isinstance(text, bool) or text is None:
        raise ValueError(f"price is missing (got {text!r})")
    if isinstance(text, (int, Decimal)):
        if default_currency is None:
            raise ValueError(f"price {text!r} has no currency and no default was given")
        return Money(Decimal(text), default_currency.upper())
    if isinstance(text, float):
        return parse_price(Decimal(str(text)), default_currency)
    if not isinstance(text, str):
        raise TypeError(f"price must be text, got {type(text).__name__}")
    return _parse_text(text, default_currency)

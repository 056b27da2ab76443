"""Prices with currencies, as Decimal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.formats.money import Money, parse_number, parse_price


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("US $120.95", "120.95", "USD"),
        ("129,46zł", "129.46", "PLN"),
        ("€1.234,56", "1234.56", "EUR"),
        ("PLN 12,00", "12.00", "PLN"),
        ("1\u202f234,56 zł", "1234.56", "PLN"),
        ("0,125 EUR", "0.125", "EUR"),  # price-parser reads this as 125
        ("-2.50 USD", "-2.50", "USD"),
    ],
)
def test_parse_price(text, amount, currency):
    money = parse_price(text)
    assert money == Money(Decimal(amount), currency)
    assert isinstance(money.amount, Decimal)


@pytest.mark.parametrize("text", ["US $2.91 €3", "1,23,4.00 USD", "12 34,5 zł", "2.91 XYZ"])
def test_parse_price_refuses_what_a_lenient_parser_accepts(text):
    with pytest.raises(ValueError, match="price"):
        parse_price(text, "USD")


def test_numbers_and_floats_keep_their_digits():
    assert parse_number("1,234") == Decimal("1234") and parse_number("2,91") == Decimal("2.91")
    assert parse_price(0.1, "eur") == Money(Decimal("0.1"), "EUR")
    with pytest.raises(TypeError):
        parse_price(["2.91"], "USD")

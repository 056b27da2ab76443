"""The offline extractor, the PII detector and the signature helpers, as plain functions."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.analysis.matching import CatalogueEntry
from app.inbox import pii
from app.inbox.extractor import extract, wanted_date
from app.inbox.signatures import hmac_sha256, hmac_valid

CATALOGUE = [CatalogueEntry(key="item:1", name="Silver Hoop Earrings", sku="EAR-100"),
             CatalogueEntry(key="item:2", name="Gold Chain Necklace 45cm", sku="NEC-200"),
             CatalogueEntry(key="item:3", name="Rose Quartz Bracelet", sku="BR-300")]
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("text, expected", [
    ("3 boxes of silver hoops earrings", (3, "box", "EAR-100")),
    ("a dozen rose quartz bracelets", (12, "", "BR-300")),
    ("half a dozen rose quartz bracelets", (6, "", "BR-300")),
    ("two packs of gold chain necklaces", (2, "pack", "NEC-200")),
    ("2x EAR-100", (2, "", "EAR-100")),
    ("gold necklace x3", (3, "", "NEC-200")),
    ("please send 5 pcs BR-300", (5, "pcs", "BR-300")),
    ("2 cases of gold chain", (2, "case", "NEC-200")),
])
def test_quantities_and_units(text, expected):
    lines = extract(text, MONDAY, CATALOGUE).lines
    assert [(x.quantity, x.unit, x.entry.sku) for x in lines] == [expected]


@pytest.mark.parametrize("text, expected", [
    ("by Friday", date(2026, 11, 27)), ("tomorrow", date(2026, 11, 24)), ("by Monday", date(2026, 11, 30)),
    ("on 2026-12-02", date(2026, 12, 2)), ("by 5/12", date(2026, 12, 5)), ("for 3rd Dec", date(2026, 12, 3)),
    ("before 20/11", date(2027, 11, 20)),
])
def test_wanted_dates_count_from_the_message_time(text, expected):
    assert wanted_date(f"2 necklaces {text}", MONDAY)[0] == expected


def test_lines_confidence_and_evidence():
    result = extract("Hi, please send 3 boxes of Silver Hoop Earrings and 2 Gold Chain Necklace by Friday",
                     MONDAY, CATALOGUE)
    assert [(line.entry.sku, line.quantity, line.unit) for line in result.lines] == [
        ("EAR-100", 3, "box"), ("NEC-200", 2, "")]
    assert result.confidence >= 90 and not result.reasons
    assert result.lines[1].evidence["matched"] == "Gold Chain Necklace 45cm"
    assert result.wanted_date == date(2026, 11, 27) and result.wanted_text == "by Friday"


def test_sku_exact_beats_fuzzy_and_address_is_found():
    result = extract("2x BR-300, a dozen silver hoop earrings. Deliver to 12 High St, Leeds", MONDAY, CATALOGUE)
    assert result.lines[0].evidence["method"] == "sku" and result.lines[0].confidence == 100
    assert result.lines[1].quantity == 12
    assert result.address_hint == "12 High St, Leeds"


def test_vague_and_unknown_messages_need_review():
    usual = extract("the usual please", MONDAY, CATALOGUE)
    assert usual.lines == [] and usual.usual and not usual.one_click
    unknown = extract("4 boxes of purple widgets", MONDAY, CATALOGUE)
    assert unknown.lines == [] and unknown.confidence == 0 and not unknown.one_click
    assert unknown.not_understood[0]["quantity"] == 4 and "purple widgets" in unknown.not_understood[0]["text"]
    implied = extract("rose quartz bracelet please", MONDAY, CATALOGUE)
    assert implied.lines == [] and implied.not_understood[0]["reason"] == "No quantity given for this product."


def test_two_close_catalogue_rows_are_never_decided_by_the_reader():
    entries = CATALOGUE + [CatalogueEntry(key="item:4", name="Gold Chain Necklace 50cm", sku="NEC-250")]
    result = extract("2 gold chain necklace", MONDAY, entries)
    assert result.lines == [] and not result.one_click
    assert {c["sku"] for c in result.not_understood[0]["candidates"]} >= {"NEC-200", "NEC-250"}
    sized = extract("2 gold chain necklace 50cm", MONDAY, entries)
    assert [(x.entry.sku, x.quantity) for x in sized.lines] == [("NEC-250", 2)] and sized.one_click


def test_pii_detection_and_masking():
    text = ("Call +44 7700 900123 or mail ann@example.com; card 4111 1111 1111 1111, "
            "IBAN GB82 WEST 1234 5698 7654 32. Order 3 boxes by 12/05")
    assert pii.find(text) == ["card", "email", "iban", "phone"]
    masked = pii.mask(text)
    for secret in ("7700 900123", "ann@example.com", "4111 1111 1111 1111", "GB82 WEST"):
        assert secret not in masked
    assert "[card …1111]" in masked and "3 boxes" in masked
    assert "card" not in pii.find("card 4111 1111 1111 1112")  # fails Luhn
    assert not pii.iban_ok("GB82 WEST 1234 5698 7654 33")
    assert pii.find("2 boxes of EAR-100 please by 2026-12-02 or 05.12.2026") == []
    result = extract("2 Rose Quartz Bracelet, pay with 4111 1111 1111 1111, call +44 7700 900123", MONDAY, CATALOGUE)
    assert [(line.entry.sku, line.quantity) for line in result.lines] == [("BR-300", 2)]


def test_hmac_sha256_header():
    assert hmac_sha256("key", b"The quick brown fox jumps over the lazy dog") == (
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
    assert hmac_valid("key", b"body", hmac_sha256("key", b"body"))
    assert not hmac_valid("key", b"body!", hmac_sha256("key", b"body"))
    assert not hmac_valid("key", b"body", "sha256=\u00e9" + hmac_sha256("key", b"body")[8:])

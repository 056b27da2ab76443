"""GS1 prefixes decoded into evidence: issuer, in-store numbers, books, coupons."""
import pytest

from app.analysis.gs1 import gs1_prefix


@pytest.mark.parametrize("gtin, kind, words", [
    ("4006381333931", "company", "GS1 Germany"),
    ("3017620422003", "company", "GS1 France"),
    ("5000213101025", "company", "GS1 UK"),
    ("036000291452", "company", "GS1 US"),  # UPC-A, 12 digits
    ("0036000291452", "company", "GS1 US"),  # the same as GTIN-13
    ("9780804816632", "isbn", "book (ISBN)"),
    ("9771234567003", "issn", "ISSN"),
    ("2001234567893", "in-store", "restricted circulation"),
    ("0212345678908", "in-store", "restricted circulation"),  # UPC number system 2: random weight
    ("0512345678907", "coupon", "coupon"),
    ("9901234567891", "coupon", "coupon"),
    ("96385074", "company", "GTIN-8"),
    ("20123451", "in-store", "GTIN-8 in-store"),
    ("10614141000415", "company", "GS1 US"),  # GTIN-14: indicator digit, then the GTIN-13 prefix
    ("1401234567893", "unknown", "not assigned"),
])
def test_prefixes(gtin, kind, words):
    prefix = gs1_prefix(gtin)
    assert prefix.kind == kind
    assert words in prefix.describe()
    assert prefix.identifies_product is (kind in ("company", "isbn", "issn"))

"""GTINs from the digits printed under barcodes and ISBN lines, and how they settle the bars."""
from pathlib import Path

import pytest

from app.analysis.barcodes import Candidate
from app.analysis.printed_digits import read_codes, read_printed, reconcile

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "barcodes"


@pytest.mark.parametrize("box, gtin", [
    ("9784872348880", "9784872348880"),  # one box, one run
    ("9 784872 348880", "9784872348880"),  # the printed layout
    ('9780345"348036', "9780345348036"),  # OCR's stray mark between the two halves
    ("9780345#348036", "9780345348036"),
    ("EAN 4006381333931", "4006381333931"),
    ("4006381333931>", "4006381333931"),  # the quiet-zone mark printed after EAN-13
    ("0 75720 00325 9", "0075720003259"),  # UPC-A layout
    ("ISBN 978-0-8048-1663-2", "9780804816632"),
    ("ISBN-13: 978-0-393-05867-3", "9780393058673"),
    ("ISBN0-8048-1663-8", "9780804816632"),  # ISBN-10 turned into its GTIN
    ("ISBN 0-306-40615-2", "9780306406157"),
    ("ISBN 0-8044-2957-X", "9780804429573"),  # X check character
])
def test_whole_codes_from_one_box(box, gtin):
    printed = read_printed([(box, 0.99)])
    assert [c.gtin for c in printed.codes] == [gtin]


@pytest.mark.parametrize("box", [
    "9784872348881",  # wrong check digit
    "780804816632",  # twelve digits in a row: an EAN-13 missing its first digit, not a UPC-A
    "Order 4006381333931 shipped",  # a number inside a sentence is not a printed barcode number
    "4006381333931 4006381333931",  # two numbers
    "91780804816632",  # fourteen digits
    "ISBN 0-306-40615-3",  # wrong ISBN-10 check
    "40063813",  # GTIN-8 shapes are not read from text (dates and codes look the same)
    "",
])
def test_no_code_from(box):
    assert read_printed([(box, 0.99)]).codes == ()


def test_never_joins_separate_boxes():
    # "9" and "784872348880" side by side would make a valid EAN-13, but they are two boxes.
    assert read_printed([("9", 0.99), ("784872348880", 0.99)]).codes == ()


def _candidate(text, votes, plain=False, conflicts=(), fmt="EAN-13"):
    return Candidate(format=fmt, text=text, votes=votes, plain=plain, conflicts=tuple(conflicts))


def test_printed_runs_confirm_a_weak_bar_reading():
    weak = _candidate("0181497000879", 1)  # only one transformed copy decoded it
    assert reconcile([weak], read_printed([])) == []
    codes = reconcile([weak], read_printed([("81497", 1.0), ("00087", 1.0)]))
    assert [(c.text, c.source, c.printed_agree) for c in codes] == [("0181497000879", "bars", True)]


def test_printed_runs_settle_competing_bar_readings():
    wrong = _candidate("1077778003259", 7, plain=True, conflicts=["0075720003259"])
    right = _candidate("0075720003259", 13, conflicts=["1077778003259"])
    assert reconcile([wrong, right], read_printed([])) == []  # the votes alone do not settle it
    codes = reconcile([wrong, right], read_printed([("75720", 1.0), ("00325", 1.0)]))
    assert [c.text for c in codes] == ["0075720003259"]


def test_printed_only_code_is_marked_and_needs_a_sure_box():
    codes = reconcile([], read_printed([("9784872348880", 0.98)]))
    assert [(c.text, c.source) for c in codes] == [("9784872348880", "printed digits")]
    assert "printed digits" in codes[0].why
    assert reconcile([], read_printed([("9784872348880", 0.6)])) == []


def test_printed_misread_of_a_decoded_symbol_is_not_a_second_code():
    bars = _candidate("9784872348880", 6, plain=True)
    # OCR misread two digits and the check digit happens to pass: the same symbol, not another product
    codes = reconcile([bars], read_printed([("9784872548869", 0.99)]))
    assert [c.text for c in codes] == ["9784872348880"]


@pytest.mark.parametrize("name, gtin, source", [
    ("ean13-2/25.webp", "9784872348880", "printed digits"),  # bars undecodable, digits legible
    ("upca-2/48.webp", "0075720003259", "bars"),  # a plain misread outvoted with the printed runs
    ("upca-2/10.webp", "0181497000879", "bars"),  # one weak reading confirmed by the printed runs
])
def test_real_photos(name, gtin, source):
    from app.analysis.ocr import read_text

    image = FIXTURES / name
    lines = [(line.text, line.confidence) for line in read_text(image)]
    codes = read_codes(image, lines)
    assert [(c.text, c.source) for c in codes] == [(gtin, source)]

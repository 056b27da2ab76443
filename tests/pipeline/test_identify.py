"""The confidence formula, on its own (see app/pipeline/identify.py)."""
from app.analysis.matching import CatalogueEntry, KeywordRule
from app.pipeline.identify import identify

BOOK = CatalogueEntry(key="item:1", name="Penguin Classics paperback", sku="BK-77", brand="Penguin",
                      gtin="9780140013993", category="Books")
MUG = CatalogueEntry(key="item:2", name="Enamel camping mug", sku="MUG-12", brand="Outdoorsy", category="Kitchen")
RULES = [KeywordRule("Kitchen/Mugs", ("mug", "cup"))]


def _bc(text):
    return [{"format": "EAN-13", "text": text, "image": "a.jpg"}]


def test_catalogue_gtin_gives_96_and_text_corroboration_99():
    alone = identify(barcodes=_bc("9780140013993"), texts=[], catalogue=[BOOK, MUG], rules=RULES)
    assert alone.confidence == 96 and alone.fields["name"] == BOOK.name
    backed = identify(barcodes=_bc("9780140013993"), texts=[{"text": "Penguin Classics", "source": "ocr"}],
                      catalogue=[BOOK, MUG], rules=RULES)
    assert backed.confidence == 99 and backed.evidence["corroborated_by"]["value"]


def test_conflicting_catalogue_rows_for_one_gtin_need_review():
    twin = CatalogueEntry(key="item:3", name="Something else", gtin="9780140013993")
    found = identify(barcodes=_bc("9780140013993"), texts=[], catalogue=[BOOK, twin], rules=RULES)
    assert found.confidence == 70 and "name" not in found.fields


def test_exact_sku_in_text_scores_085_of_100():
    found = identify(barcodes=[], texts=[{"text": "MUG-12", "source": "hint"}], catalogue=[BOOK, MUG], rules=RULES)
    assert found.confidence == 85 and found.fields["name"] == MUG.name


def test_invalid_barcode_text_is_ignored_and_category_comes_from_rules():
    found = identify(barcodes=_bc("1234567890123"), texts=[{"text": "blue ceramic cup", "source": "hint"}],
                     catalogue=[], rules=RULES)
    assert found.evidence["gtins_read"] == []
    assert found.fields == {"category": "Kitchen/Mugs"} and found.confidence == 0


def test_nothing_found_stays_empty():
    found = identify(barcodes=[], texts=[], catalogue=[BOOK], rules=RULES)
    assert found.fields == {} and found.confidence == 0

"""Identification on its own: every path, its confidence and evidence, and a person's words winning."""
from app.analysis.matching import CatalogueEntry, KeywordRule
from app.pipeline import identify as ident
from app.pipeline.fields import apply_identification
from app.pipeline.identify import Inputs, Reference, identify

BOOK = CatalogueEntry(key="item:1", name="Penguin Classics paperback", sku="BK-77", brand="Penguin",
                      gtin="9780140013993", category="Books")
MUG = CatalogueEntry(key="item:2", name="Enamel camping mug", sku="MUG-12", brand="Outdoorsy", category="Kitchen")
EARRINGS = CatalogueEntry(key="item:3", name="Stud Earring Posts with Backs 10pcs", sku="EAR-10", category="Earrings")
RULES = [KeywordRule("Kitchen/Mugs", ("mug", "cup")), KeywordRule("Food/Spreads", ("spreads",))]
NUTELLA = Reference(gtin="3017620422003", name="Nutella", brand="Ferrero", quantity="400 g",
                    categories="Breakfasts, Spreads, Sweet spreads", source="off-export.tsv",
                    fetched_at="2026-11-30T10:00:00+00:00")


def _code(text, source="bars", agree=False):
    return [{"format": "EAN-13", "text": text, "source": source, "printed_digits_agree": agree, "image": "a.jpg"}]


def _ocr(*lines, size=(1000, 800)):
    return [{"text": t, "confidence": 0.99, "box": box, "image": "a.jpg", "width": size[0], "height": size[1]}
            for t, box in lines]


def test_catalogue_gtin_and_text_corroboration():
    alone = identify(Inputs(codes=_code("9780140013993"), catalogue=[BOOK, MUG], rules=RULES))
    assert alone.path == "catalogue GTIN" and alone.confidence == ident.CATALOGUE
    assert alone.fields["name"] == BOOK.name and alone.fields["gtin"] == "9780140013993"
    backed = identify(Inputs(codes=_code("9780140013993"), catalogue=[BOOK, MUG], rules=RULES,
                             ocr=_ocr(("Penguin Classics", [[0, 0], [10, 0], [10, 5], [0, 5]]))))
    assert backed.confidence == ident.CATALOGUE + ident.CORROBORATED
    assert backed.evidence["corroborated_by"]["value"]
    assert [p["points"] for p in backed.evidence["confidence_parts"]] == [ident.CATALOGUE, ident.CORROBORATED]


def test_conflicting_catalogue_rows_for_one_gtin_need_review():
    twin = CatalogueEntry(key="item:9", name="Something else", gtin="9780140013993")
    found = identify(Inputs(codes=_code("9780140013993"), catalogue=[BOOK, twin], rules=RULES))
    assert found.confidence == ident.CATALOGUE_CONFLICT and "name" not in found.fields
    assert "catalogue_conflict" in found.review_reasons
    assert {s["value"] for s in found.suggestions if s["field"] == "name"} == {BOOK.name, "Something else"}


def test_reference_gtin_sits_between_catalogue_and_text():
    found = identify(Inputs(codes=_code("3017620422003"), catalogue=[BOOK], rules=RULES,
                            reference={NUTELLA.gtin: NUTELLA}))
    assert found.path == "reference GTIN"
    assert ident.TEXT_WEIGHT * 100 < found.confidence == ident.REFERENCE < ident.CATALOGUE
    assert found.fields == {"name": "Nutella", "brand": "Ferrero", "gtin": "3017620422003",
                            "category": "Food/Spreads"}  # the organisation's rule, on the reference categories
    assert "reference data: off-export.tsv" in found.evidence["confidence_parts"][0]["why"]
    assert found.evidence["reference"]["quantity"] == "400 g"


def test_catalogue_wins_over_reference_for_the_same_gtin():
    own = CatalogueEntry(key="item:5", name="Nutella jar (shop stock)", gtin="3017620422003")
    found = identify(Inputs(codes=_code("3017620422003"), catalogue=[own], reference={NUTELLA.gtin: NUTELLA}))
    assert found.path == "catalogue GTIN" and found.fields["name"] == own.name


def test_printed_digits_cost_confidence_unless_the_bars_agree():
    printed = identify(Inputs(codes=_code("3017620422003", source="printed digits"),
                              reference={NUTELLA.gtin: NUTELLA}))
    assert printed.confidence == ident.REFERENCE - ident.PRINTED_ONLY_PENALTY
    assert "printed_only" in printed.review_reasons
    both = identify(Inputs(codes=_code("3017620422003", agree=True), reference={NUTELLA.gtin: NUTELLA}))
    assert both.confidence == ident.REFERENCE


def test_in_store_numbers_are_not_looked_up():
    in_store = Reference(gtin="2001234567893", name="Loose apples", brand=None, quantity=None, categories=None,
                         source="x", fetched_at="2026-11-30")
    found = identify(Inputs(codes=_code("2001234567893"), reference={in_store.gtin: in_store}))
    assert found.path == "nothing" and found.confidence == 0
    assert "restricted circulation" in found.evidence["notes"][0]
    assert found.evidence["codes"][0]["identifies_product"] is False


def test_exact_sku_in_text_and_ambiguity_penalty():
    found = identify(Inputs(hint_model="MUG-12", catalogue=[BOOK, MUG], rules=RULES))
    assert found.path == "text match" and found.confidence == round(ident.TEXT_WEIGHT * 100)
    twin = CatalogueEntry(key="item:8", name="Enamel camping mug", sku="MUG-13")
    doubtful = identify(Inputs(hint_name="enamel camping mug", catalogue=[MUG, twin]))
    assert "ambiguous_text" in doubtful.review_reasons
    assert doubtful.confidence == round(ident.TEXT_WEIGHT * 100) - ident.AMBIGUITY_PENALTY


def test_typed_name_that_does_not_fit_caps_the_confidence():
    found = identify(Inputs(codes=_code("9780140013993"), hint_name="Desk lamp", catalogue=[BOOK]))
    assert found.confidence == ident.HINT_CONFLICT_CAP
    assert "hint_conflict" in found.review_reasons
    assert found.evidence["hint_check"]["name"]["agrees"] is False
    fits = identify(Inputs(codes=_code("3017620422003"), hint_name="Nutella 400g", reference={NUTELLA.gtin: NUTELLA}))
    assert fits.confidence == ident.REFERENCE and fits.evidence["hint_check"]["name"]["agrees"] is True


def test_weak_match_never_renames_the_product():
    """The reported case: a printed page uploaded as "Desk lamp" / "LX-200"."""
    page = _ocr(("Stud posts with backs", [[300, 300], [700, 300], [700, 340], [300, 340]]),
                ("earring findings 10 pcs", [[300, 400], [700, 400], [700, 430], [300, 430]]))
    found = identify(Inputs(ocr=page, hint_name="Desk lamp", hint_model="LX-200", catalogue=[EARRINGS, MUG]))
    assert found.confidence < 80
    applied = apply_identification(values={"name": "Desk lamp", "model": "LX-200"},
                                   sources={"name": "upload", "model": "upload"}, found=found, threshold=80)
    assert applied.values["name"] == "Desk lamp" and applied.values["model"] == "LX-200"
    assert applied.values["category"] is None  # below the threshold nothing machine-made is written
    assert not applied.passes and "below_threshold" in applied.review_reasons
    names = [s for s in applied.suggestions if s["field"] == "name"]
    assert names and names[0]["value"] == EARRINGS.name and "score" in names[0]["why"]


def test_person_fields_survive_a_confident_identification():
    found = identify(Inputs(codes=_code("3017620422003"), hint_name="Nutella 400g", reference={NUTELLA.gtin: NUTELLA}))
    applied = apply_identification(values={"name": "Nutella 400g", "brand": None}, sources={"name": "upload"},
                                   found=found, threshold=80)
    assert applied.passes
    assert applied.values["name"] == "Nutella 400g" and applied.sources["name"] == "upload"
    assert applied.values["brand"] == "Ferrero" and applied.sources["brand"] == "reference GTIN"
    assert [s["value"] for s in applied.suggestions if s["field"] == "name"] == ["Nutella"]


def test_nothing_found_offers_the_photo_text():
    photo = _ocr(("CRUNCHY OAT BARS", [[250, 350], [750, 350], [750, 430], [250, 430]]),
                 ("Oatly", [[400, 100], [560, 100], [560, 140], [400, 140]]),
                 ("best before 12/2027", [[10, 760], [200, 760], [200, 780], [10, 780]]),
                 ("Lot 4471 net wt 500 g", [[10, 780], [200, 780], [200, 795], [10, 795]]))
    found = identify(Inputs(ocr=photo, catalogue=[MUG], known_brands={"oatly": "Oatly"}))
    assert found.path == "nothing" and found.confidence == 0 and found.fields == {}
    assert "nothing_found" in found.review_reasons
    names = [s["value"] for s in found.suggestions if s["field"] == "name"]
    assert names[0] == "CRUNCHY OAT BARS" and "best before 12/2027" not in names
    assert [s["value"] for s in found.suggestions if s["field"] == "brand"] == ["Oatly"]


def test_invalid_barcode_text_is_ignored_and_category_comes_from_rules():
    found = identify(Inputs(codes=_code("1234567890123"), hint_name="blue ceramic cup", rules=RULES))
    assert found.evidence["codes"] == []
    assert found.fields == {"category": "Kitchen/Mugs"} and found.confidence == 0


def test_gtin_without_any_match_is_only_a_suggestion_below_the_threshold():
    found = identify(Inputs(codes=_code("4006381333931")))
    assert found.fields == {"gtin": "4006381333931"} and found.confidence == 0
    applied = apply_identification(values={}, sources={}, found=found, threshold=80)
    assert applied.values["gtin"] is None
    assert [(s["field"], s["value"]) for s in applied.suggestions] == [("gtin", "4006381333931")]

from app.analysis.matching import (
    CatalogueEntry,
    KeywordRule,
    categorise,
    match_gtin,
    match_text,
)

CATALOGUE = [
    CatalogueEntry(key=1, name="Sterling Silver Curb Bracelet Chain 18cm", sku="BR-CURB-18", brand="Argenta", gtin="4006381333931"),
    CatalogueEntry(key=2, name="Gold Plated Hoop Earrings", sku="EA-HOOP-G", brand="Lumo", aliases=("huggie hoops",)),
    CatalogueEntry(key=3, name="Lobster Clasp Carabiner 12mm", sku="FD-LOB-12", model="LC12"),
    CatalogueEntry(key=4, name="Heart Charm Pendant", sku="CH-HEART", gtin="036000291452"),
]


def test_misspelt_name_finds_the_right_entry():
    matches = match_text(["sterlng silvr curb braclet chain"], CATALOGUE)
    assert matches[0].entry.key == 1
    assert matches[0].matched_field == "name"
    assert 60 <= matches[0].score <= 100
    assert all(m.score <= matches[0].score for m in matches)


def test_ocr_lines_with_sku_match_exactly():
    matches = match_text(["Made in Italy", "SKU: FD-LOB-12", "qty 50"], CATALOGUE)
    assert (matches[0].entry.key, matches[0].matched_field, matches[0].score) == (3, "sku", 95)


def test_alias_and_brand():
    matches = match_text(["Lumo huggie hoops"], CATALOGUE)
    assert matches[0].entry.key == 2
    assert matches[0].matched_field == "alias"


def test_unrelated_text_matches_nothing():
    assert match_text(["invoice total due 2024"], CATALOGUE) == []
    assert match_text([], CATALOGUE) == []


def test_match_gtin_normalises_upc_a():
    assert [e.key for e in match_gtin("0036000291452", CATALOGUE)] == [4]
    assert [e.key for e in match_gtin("4006381333931", CATALOGUE)] == [1]
    assert match_gtin("4006381333932", CATALOGUE) == []


def test_gtin_printed_in_text_matches():
    assert match_text(["EAN 4006381333931"], CATALOGUE)[0].matched_field == "gtin"


RULES = [
    KeywordRule("Chains/Bracelet Chains", ("bracelet chain", "bracelet")),
    KeywordRule("Chains/Necklace Chains", ("necklace chain", "chain")),
    KeywordRule("Earrings", ("earring", "hoop")),
    KeywordRule("Jewellery/Rings", ("ring",)),
]


def test_categorise_prefers_the_most_specific_keyword():
    category, reason = categorise("925 Silver Bracelet Chain, 18cm", RULES)
    assert category == "Chains/Bracelet Chains"
    assert 'keyword "bracelet chain"' in reason


def test_categorise_uses_whole_words():
    category, reason = categorise("Gold earrings pair", RULES)
    assert category == "Earrings"
    assert "earring" in reason


def test_categorise_falls_back_to_fuzzy_with_score():
    category, reason = categorise("silver braclet 20cm", RULES)
    assert category == "Chains/Bracelet Chains"
    assert '"braclet" is close to keyword "bracelet"' in reason
    assert "score" in reason


def test_categorise_none():
    assert categorise("packing tape", RULES) == (None, "no keyword matched")

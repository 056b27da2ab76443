"""SEO as plain functions: word-boundary titles, meta description, slugs, completeness."""
from __future__ import annotations

import pytest

from app.listings.phases.seo import (
    META_LIMIT,
    SeoFacts,
    build_seo,
    completeness,
    core_title,
    fit,
    slugify,
    titles_for,
    unique_slug,
)

FULL = SeoFacts(name="Curb Chain Bracelet 18 cm", brand="Aurum", model="CB-18", category="Chains › Bracelet Chains",
                condition="New", gtin="4006381333931", price="19.90", image_count=2,
                ocr_text=["AURUM sterling silver 925", "curb chain bracelet"])


@pytest.mark.parametrize("limit", [3, 10, 17, 40, 80])
def test_fit_never_cuts_inside_a_word_and_drops_trailing_punctuation(limit):
    text = "Sterling silver, curb chain - bracelet: 18 cm / gold plated; gift boxed."
    out = fit(text, limit)
    assert len(out) <= limit
    assert text.startswith(out)
    assert out == "" or text[len(out)] in " ,-:;/." or len(out) == len(text.rstrip("."))
    assert not out.endswith(tuple(",-:;/. "))


def test_fit_keeps_short_text_and_never_halves_a_giant_word():
    assert fit("  Short   title  ", 80) == "Short title"
    assert fit("x" * 100, 80) == ""
    assert fit("Sterling silver", 5) == ""


def test_core_title_names_each_part_once():
    assert core_title(SeoFacts(name="Aurum Curb Chain CB-18", brand="Aurum", model="CB-18")) == "Aurum Curb Chain CB-18"
    assert core_title(SeoFacts(name="Curb Chain", brand="Aurum", model="CB-18")) == "Aurum Curb Chain CB-18"
    assert core_title(SeoFacts()) == ""


def test_titles_respect_marketplace_limits():
    long = SeoFacts(name="Very long name " * 12, brand="Brand", category="A › B", condition="Used")
    titles = titles_for(long, ["alpha beta", "gamma"] * 30)
    for limit in ("80", "150", "255"):
        assert 0 < len(titles[limit]) <= int(limit)
        assert not titles[limit].endswith(tuple(" -,.;:"))


def test_titles_grow_with_category_condition_and_keywords():
    titles = titles_for(FULL, ["sterling silver", "bracelet"])
    assert titles["80"] == "Aurum Curb Chain Bracelet 18 cm CB-18"
    assert titles["150"] == "Aurum Curb Chain Bracelet 18 cm CB-18 - Bracelet Chains - New"
    assert titles["255"] == titles["150"] + " - sterling silver"


def test_nothing_known_gives_empty_titles_not_invented_ones():
    seo = build_seo(SeoFacts(image_count=1))
    assert seo["titles"] == {"80": "", "150": "", "255": ""}
    assert seo["meta_description"] == "" and seo["slug"] == "" and seo["keywords"] == []


def test_meta_description_is_short_and_factual():
    seo = build_seo(FULL)
    assert len(seo["meta_description"]) <= META_LIMIT
    assert seo["meta_description"].startswith("Aurum Curb Chain Bracelet 18 cm CB-18 (Chains › Bracelet Chains). "
                                              "Condition: new. GTIN 4006381333931.")


def test_keywords_come_from_name_brand_category_and_ocr():
    keywords = build_seo(FULL)["keywords"]
    assert keywords and all(k == k.lower() for k in keywords)
    assert any("sterling" in k or "silver" in k for k in keywords)  # only the OCR text says so


@pytest.mark.parametrize("text, slug", [
    ("Crème Brûlée Ring – Größe 52", "creme-brulee-ring-grosse-52"),
    ("Łódź   Bracelet!!", "lodz-bracelet"),
    ("  ", ""),
    ("日本 Chain", "chain"),
])
def test_slugify_is_ascii(text, slug):
    assert slugify(text) == slug


def test_slug_limit_cuts_at_word():
    slug = slugify("word " * 40)
    assert len(slug) <= 80 and not slug.endswith("-") and slug.startswith("word-word")


def test_unique_slug():
    assert unique_slug("ring", [], "product-1") == "ring"
    assert unique_slug("ring", ["ring", "ring-2"], "product-1") == "ring-3"
    assert unique_slug("", ["x"], "product-9") == "product-9"


def test_completeness_lists_missing_attributes():
    assert completeness(FULL) == {"score": 100, "missing": [], "missing_labels": [],
                                  "required": ["name", "brand", "category", "price", "images", "condition", "gtin"]}
    partial = completeness(SeoFacts(name="Ring", image_count=1))
    assert partial["missing"] == ["brand", "category", "price", "condition", "gtin"]
    assert partial["score"] == 29
    assert "GTIN (barcode)" in partial["missing_labels"]

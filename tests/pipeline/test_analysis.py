"""Analysis phase: catalogue GTIN → confident with no human step; nothing readable → review."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.pipeline.models import PhaseStatus, PipelineLog, Product, ProductStatus
from tests.pipeline.helpers import (
    BLANK_PHOTO,
    EAN,
    EAN_PHOTO,
    TEXT_PAGE_PHOTO,
    catalogue_item,
    create_product,
    reference_row,
)


def _fresh(product_id: int) -> Product:
    db.session.expire_all()
    return db.session.get(Product, product_id)


def test_barcode_in_inventory_passes_every_phase_without_a_person(org, manager, run_jobs, later_phases):
    item = catalogue_item(org)
    product = create_product(org, manager, EAN_PHOTO, condition="used")
    run_jobs()
    product = _fresh(product.id)
    assert product.status == ProductStatus.COMPLETED
    assert [p.status for p in product.phases] == [PhaseStatus.COMPLETED] * 4
    assert product.confidence >= 95 and product.confidence_source == "analysis"
    assert (product.name, product.brand, product.category, product.gtin) == (
        "Penguin Classics paperback", "Penguin", "Books", EAN)
    assert product.condition.value == "used"  # from the hint, never inferred
    match = product.evidence["gtin_match"]
    assert match["gtin"] == EAN and match["code"]["format"] == "EAN-13" and match["code"]["source"] == "bars"
    assert match["rows"][0]["key"] == f"item:{item.id}"
    assert product.field_sources["name"] == "catalogue GTIN" and not product.review_reasons
    image = product.images[0]
    assert [(b["format"], b["text"], b["source"]) for b in image.analysis["barcodes"]] == [("EAN-13", EAN, "bars")]
    assert 0 <= image.analysis["quality"]["score"] <= 100
    assert all(p.runs == 1 for p in later_phases.values())


def test_an_earlier_completed_product_is_part_of_the_catalogue(org, manager, run_jobs, later_phases):
    earlier = Product(organisation_id=org.id, status=ProductStatus.COMPLETED, name="Old book", brand="Penguin",
                      gtin=EAN, category="Books")
    db.session.add(earlier)
    db.session.commit()
    product = create_product(org, manager, EAN_PHOTO)
    run_jobs()
    product = _fresh(product.id)
    assert product.status == ProductStatus.COMPLETED
    assert product.name == "Old book" and product.confidence >= 95
    assert product.evidence["gtin_match"]["rows"][0]["key"] == f"product:{earlier.id}"


def test_known_gtin_of_another_organisation_does_not_count(org, other_org, manager, run_jobs, later_phases):
    catalogue_item(other_org)
    product = create_product(org, manager, EAN_PHOTO)
    run_jobs()
    product = _fresh(product.id)
    assert product.status == ProductStatus.NEEDS_REVIEW
    assert product.name is None and product.gtin is None  # read, but nobody knows what it is
    assert [(s["field"], s["value"]) for s in product.suggestions if s["field"] == "gtin"] == [("gtin", EAN)]
    assert "neither the catalogue nor the reference data knows it" in product.evidence["reason"]
    assert "nothing_found" in product.review_reasons


def test_photo_without_barcode_or_text_waits_for_review(org, manager, run_jobs, later_phases):
    catalogue_item(org)
    product = create_product(org, manager, BLANK_PHOTO)
    run_jobs()
    product = _fresh(product.id)
    assert product.status == ProductStatus.NEEDS_REVIEW
    assert product.phase("analysis").status == PhaseStatus.NEEDS_REVIEW
    assert product.phase("market").status == PhaseStatus.PENDING
    assert product.confidence == 0
    assert (product.name, product.brand, product.model, product.category, product.gtin) == (None,) * 5
    assert later_phases["market"].runs == 0
    messages = db.session.scalars(select(PipelineLog.message).where(PipelineLog.product_id == product.id)).all()
    assert any("below the threshold 80" in m for m in messages)


def test_threshold_is_the_organisations(org, manager, run_jobs, later_phases):
    org.review_threshold = 0
    db.session.commit()
    product = create_product(org, manager, BLANK_PHOTO)
    run_jobs()
    assert _fresh(product.id).status == ProductStatus.COMPLETED


def test_near_duplicate_of_an_earlier_product_is_reported(org, manager, run_jobs, later_phases):
    first = create_product(org, manager, BLANK_PHOTO)
    run_jobs()
    second = create_product(org, manager, BLANK_PHOTO)
    run_jobs()
    evidence = _fresh(second.id).evidence
    assert evidence["near_duplicates"] == [{"product_id": first.id, "distance": 0}]


def test_per_image_findings_are_kept_for_products_in_review(org, manager, run_jobs, later_phases):
    product = create_product(org, manager, BLANK_PHOTO)
    run_jobs()
    image = _fresh(product.id).images[0]
    assert image.analysis["barcodes"] == [] and "score" in image.analysis["quality"]


def test_reference_data_identifies_a_product_the_catalogue_lacks(org, manager, run_jobs, later_phases):
    reference_row(EAN, name="Penguin Modern Classics: Nineteen Eighty-Four", brand="Penguin")
    product = create_product(org, manager, EAN_PHOTO)
    run_jobs()
    product = _fresh(product.id)
    assert product.status == ProductStatus.COMPLETED
    assert (product.name, product.brand, product.gtin) == ("Penguin Modern Classics: Nineteen Eighty-Four",
                                                           "Penguin", EAN)
    assert product.field_sources["name"] == "reference GTIN"
    assert product.evidence["path"] == "reference GTIN"
    assert product.evidence["reference"]["source"] == "test-export.tsv"
    assert "reference data: test-export.tsv, fetched" in product.evidence["confidence_parts"][0]["why"]


def test_weak_text_match_never_renames_the_upload(org, manager, run_jobs, later_phases):
    """A printed page uploaded as "Desk lamp" / "LX-200" must not become an earring listing."""
    catalogue_item(org, gtin=None, title="Stud Earring Posts with Backs 10pcs", sku="EAR-10", brand=None,
                   category="Earrings")
    product = create_product(org, manager, TEXT_PAGE_PHOTO, hint_name="Desk lamp", hint_model="LX-200")
    run_jobs()
    product = _fresh(product.id)
    assert product.status == ProductStatus.NEEDS_REVIEW
    assert (product.name, product.model) == ("Desk lamp", "LX-200")
    assert product.field_sources == {"name": "upload", "model": "upload"}
    assert product.category is None and product.brand is None
    assert product.confidence < org.review_threshold and "below_threshold" in product.review_reasons

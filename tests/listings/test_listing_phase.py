"""SEO and listing phases through run(ctx) with real product rows: one listing per product."""
from __future__ import annotations

from decimal import Decimal as D

from sqlalchemy import func, select

from app.extensions import db
from app.listings.models import Listing, ListingStatus
from app.listings.phases import listing as listing_phase
from app.listings.phases import seo as seo_phase
from app.listings.price_lists import price_list_import
from app.pipeline.models import Condition
from tests.listings.helpers import context, make_product, run_phases

PRICES = b"GTIN,Competitor price\n4006381333931,20.00\n"


def _listings() -> int:
    return db.session.scalar(select(func.count()).select_from(Listing))


def test_all_three_phases_build_a_ready_listing(app, org, manager):
    price_list_import(org_id=org.id, by=manager, filename="p.csv", data=PRICES, currency="EUR")
    product = make_product(org, evidence={"texts_used": [
        {"text": "AURUM sterling silver 925", "source": "ocr"}, {"text": "my hint", "source": "hint"}]},
        kept_text=["AURUM sterling silver 925"])
    results = run_phases(product, "market", "seo", "listing")
    seo = results["seo"]
    assert seo["slug"] == "aurum-curb-chain-bracelet"
    assert seo["titles"]["80"] == "Aurum Curb Chain Bracelet"
    assert seo["completeness"]["score"] == 100
    assert any("sterling" in k or "silver" in k for k in seo["keywords"])  # kept by the reviewer
    assert not any("hint" in k for k in seo["keywords"])
    row = db.session.scalar(select(Listing))
    assert row.status == ListingStatus.READY and row.missing == []
    assert row.price == D("19.60") and row.currency == "EUR"
    assert row.title == "Aurum Curb Chain Bracelet - Bracelet Chains - New"
    assert row.image_order == [image.id for image in product.images]
    assert row.attributes == {"brand": "Aurum", "category": "Chains › Bracelet Chains", "condition": "New",
                              "gtin": "4006381333931"}
    assert "GTIN: 4006381333931." in row.description
    assert row.pricing["rule"] == "median of 1 competitor price(s) −2 %"


def test_running_again_updates_the_same_listing(app, org):
    product = make_product(org)
    run_phases(product, "market", "seo", "listing")
    first = db.session.scalar(select(Listing))
    run_phases(product, "market", "seo", "listing")
    db.session.expire_all()
    assert _listings() == 1
    again = db.session.scalar(select(Listing))
    assert again.id == first.id and again.revision == 2 and again.slug == "aurum-curb-chain-bracelet"


def test_no_price_and_no_images_leave_a_draft_saying_why(app, org):
    product = make_product(org, images=0, condition=Condition.UNKNOWN, brand=None, gtin=None)
    results = run_phases(product, "market", "seo", "listing")
    assert results["market"]["status"] == "no market data"
    assert results["listing"] == {"status": "draft", "missing": ["price", "images"],
                                  "title": "Curb Chain Bracelet - Bracelet Chains", "price": None, "currency": None}
    completeness = results["seo"]["completeness"]
    assert completeness["missing"] == ["brand", "price", "images", "condition", "gtin"]
    row = db.session.scalar(select(Listing))
    assert row.price is None and row.currency is None and row.status == ListingStatus.DRAFT


def test_slugs_are_unique_within_an_organisation_only(app, org, other_org):
    a, b = make_product(org), make_product(org)
    theirs = make_product(other_org)
    for product in (a, b, theirs):
        run_phases(product, "market", "seo", "listing")
    slugs = dict(db.session.execute(select(Listing.product_id, Listing.slug)).all())
    assert slugs == {a.id: "aurum-curb-chain-bracelet", b.id: "aurum-curb-chain-bracelet-2",
                     theirs.id: "aurum-curb-chain-bracelet"}


def test_listing_write_picks_a_free_slug_even_if_seo_ran_before_another_listing(app, org):
    a, b = make_product(org), make_product(org)
    seo_a = seo_phase.run(context(a, "seo", {})).result
    seo_b = seo_phase.run(context(b, "seo", {})).result
    assert seo_a["slug"] == seo_b["slug"]  # neither listing existed yet
    for product, seo in ((a, seo_a), (b, seo_b)):
        outcome = listing_phase.run(context(product, "listing", {"seo": seo, "market": {}}))
        outcome.write()
        db.session.commit()
    assert sorted(db.session.scalars(select(Listing.slug))) == ["aurum-curb-chain-bracelet",
                                                                "aurum-curb-chain-bracelet-2"]


def test_nothing_identified_gives_an_empty_title_and_a_fallback_slug(app, org):
    product = make_product(org, name=None, brand=None, category=None, gtin=None)
    results = run_phases(product, "market", "seo", "listing")
    assert results["seo"]["slug"] == f"product-{product.id}"
    assert results["listing"]["missing"] == ["title", "price"]


def test_a_free_slug_is_found_among_look_alikes_without_reading_the_whole_catalogue(app, org):
    from app.listings.phases.seo import taken_slugs

    a, b = make_product(org), make_product(org)
    for product, slug in ((a, "aurum-curb-chain-bracelet-2"), (b, "aurum-curb-chain-bracelet_x")):
        db.session.add(Listing(organisation_id=org.id, product_id=product.id, slug=slug, title="x", description="",
                               attributes={}, image_order=[], seo={}, pricing={}, missing=[]))
    db.session.commit()
    # "_" is not a wildcard: only the base and base-N can collide
    assert taken_slugs(org.id, 0, "aurum-curb-chain-bracelet") == ["aurum-curb-chain-bracelet-2"]
    c = make_product(org)
    results = run_phases(c, "market", "seo", "listing")
    assert results["seo"]["slug"] == "aurum-curb-chain-bracelet"
    d = make_product(org)
    run_phases(d, "market", "seo", "listing")
    slugs = dict(db.session.execute(select(Listing.product_id, Listing.slug)).all())
    assert slugs[c.id] == "aurum-curb-chain-bracelet" and slugs[d.id] == "aurum-curb-chain-bracelet-3"

"""All four phases on a real worker: a photographed book in the catalogue ends as a ready listing."""
from __future__ import annotations

from decimal import Decimal as D

from sqlalchemy import select

from app.extensions import db
from app.listings.models import Listing, ListingStatus
from app.listings.price_lists import price_list_import
from app.pipeline.models import PhaseStatus, Product, ProductStatus
from tests.pipeline.helpers import EAN, EAN_PHOTO, catalogue_item, create_product


def test_catalogue_gtin_flows_through_market_seo_and_listing(org, manager, run_jobs, manager_client):
    item = catalogue_item(org)
    item.unit_cost, item.currency = D("6.00"), "EUR"
    db.session.commit()
    price_list_import(org_id=org.id, by=manager, filename="books.csv", currency="EUR",
                      data=f"EAN,RRP,Competitor price,Source\n{EAN},12.99,9.50,Book shop\n{EAN},,10.50,Other\n".encode())
    product = create_product(org, manager, EAN_PHOTO, condition="used")
    run_jobs()
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert product.status == ProductStatus.COMPLETED
    assert [p.status for p in product.phases] == [PhaseStatus.COMPLETED] * 4
    market = product.phase("market").result
    assert market["suggested_price"] == "9.80" and market["msrp"] == "12.99" and market["item_id"] == item.id
    assert market["rule"] == "median of 2 competitor price(s) −2 %, floored at unit cost × 1.3"
    seo = product.phase("seo").result
    assert seo["titles"]["80"] == "Penguin Classics paperback"
    assert seo["completeness"]["missing"] == []
    listing = db.session.scalar(select(Listing).where(Listing.product_id == product.id))
    assert listing.status == ListingStatus.READY and listing.price == D("9.80") and listing.currency == "EUR"
    assert listing.attributes["sku"] == "BOOK-1" and listing.attributes["condition"] == "Used"
    response = manager_client.get(f"/listings/products/{product.id}/export?format=shopify")
    assert response.status_code == 200
    first = response.get_data(as_text=True).splitlines()[1]
    assert first.startswith("penguin-classics-paperback,Penguin Classics paperback - Books - Used,")
    image_url = f"http://localhost/products/images/{product.images[0].id}"
    assert image_url in first
    assert ",12.99,TRUE,TRUE," in first and first.endswith(",6.00,active")  # compare-at MSRP; cost per item

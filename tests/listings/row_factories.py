"""Rows of another organisation for the cross-organisation route walk (price lists, listings)."""
from __future__ import annotations

from app.extensions import db
from app.listings.models import Listing, ListingStatus
from app.listings.price_lists import price_list_import
from tests.listings.helpers import make_product
from tests.tenancy_rows import factory


@factory
def listing_rows(org, user) -> dict:
    price_list = price_list_import(org_id=org.id, by=user, filename="theirs.csv", currency="EUR",
                                   data=b"gtin,msrp\n4006381333931,10.00\n")
    product = make_product(org, name="Their ring")
    db.session.add(Listing(organisation_id=org.id, product_id=product.id, slug="their-ring", title="Their ring",
                           description="", attributes={}, image_order=[], seo={}, pricing={},
                           status=ListingStatus.DRAFT, missing=["price"]))
    db.session.commit()
    return {"price_list_id": price_list.id, "product_id": product.id}

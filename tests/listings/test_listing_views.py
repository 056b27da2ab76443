"""Listing and price list pages: empty states, deleting, roles."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from app.extensions import db
from app.listings.price_lists import PriceList, PriceListEntry
from tests.listings.helpers import make_product


def test_product_without_listing_says_so(manager_client, org):
    product = make_product(org, name="Fresh upload")
    page = manager_client.get(f"/listings/products/{product.id}").get_data(as_text=True)
    assert "has not reached it yet" in page
    assert manager_client.get(f"/listings/products/{product.id}/export").status_code == 422


def test_empty_listings_page(manager_client):
    assert "No products match" in manager_client.get("/listings").get_data(as_text=True)


def test_delete_price_list_from_its_page(manager_client):
    manager_client.post("/price-lists", data={"currency": "EUR", "file": (io.BytesIO(b"sku,msrp\nA-1,5\n"), "a.csv")},
                        content_type="multipart/form-data")
    price_list = db.session.scalar(select(PriceList))
    page = manager_client.htmx("GET", f"/price-lists/{price_list.id}?q=A-1").get_data(as_text=True)
    assert "A-1" in page and "<html" not in page
    response = manager_client.post(f"/price-lists/{price_list.id}/delete")
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(PriceListEntry)) == 0


def test_staff_cannot_see_listings_or_export(staff_client, org):
    product = make_product(org)
    for url in ("/listings", f"/listings/products/{product.id}", f"/listings/export?ids={product.id}"):
        assert staff_client.get(url).status_code == 403

"""Exports parsed back: Shopify columns, image rows, neutralised formulas, JSON; and their pages."""
from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.formats.spreadsheet import neutralise
from app.listings.exports import GENERIC_COLUMNS, SHOPIFY_COLUMNS, render_export
from app.listings.models import Listing
from app.listings.price_lists import price_list_import
from tests.listings.helpers import make_product, run_phases

PRICES = b"GTIN,MSRP,Competitor price\n4006381333931,25.00,20.00\n"


def fake_url(image_id: int) -> str:
    return f"https://stock.example/products/images/{image_id}"


def parse(body: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body, newline="")))


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+SUM(A1)", "'+SUM(A1)"), ("-2", "'-2"), ("@cmd", "'@cmd"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("plain", "plain"), ("a=b", "a=b"), (None, ""), (12, "12"),
])
def test_neutralise(value, expected):
    assert neutralise(value) == expected


@pytest.fixture
def listing(app, org, manager) -> Listing:
    price_list_import(org_id=org.id, by=manager, filename="p.csv", data=PRICES, currency="EUR")
    product = make_product(org, images=3)
    run_phases(product, "market", "seo", "listing")
    return db.session.scalar(select(Listing).where(Listing.product_id == product.id))


def test_shopify_csv_has_shopify_columns_and_one_row_per_image(listing):
    rows = parse(render_export([listing], "shopify", fake_url).body)
    assert list(rows[0].keys()) == SHOPIFY_COLUMNS
    first, *images = rows
    assert first["Handle"] == "aurum-curb-chain-bracelet" and first["Title"] == listing.title
    assert first["Vendor"] == "Aurum" and first["Type"] == "Chains › Bracelet Chains"
    assert first["Variant Price"] == "19.60" and first["Variant Compare At Price"] == "25.00"
    assert first["Variant Barcode"] == "4006381333931"
    assert first["Status"] == "active" and first["Published"] == "TRUE"
    assert first["Option1 Name"] == "Title" and first["Option1 Value"] == "Default Title"
    assert first["Body (HTML)"].startswith("<p>Curb Chain Bracelet by Aurum.</p>")
    assert len(first["SEO Title"]) <= 80 and len(first["SEO Description"]) <= 160
    ids = listing.image_order
    assert [(r["Image Src"], r["Image Position"]) for r in rows] == [(fake_url(i), str(n)) for n, i in
                                                                     enumerate(ids, start=1)]
    assert all(r["Handle"] == first["Handle"] and r["Title"] == "" for r in images)


def test_formulas_are_neutralised_in_both_csvs(app, org):
    product = make_product(org, name='=HYPERLINK("http://evil","x")', brand="+Brand", category="@Cat",
                           gtin=None, images=1)
    run_phases(product, "market", "seo", "listing")
    row = db.session.scalar(select(Listing))
    row.attributes = dict(row.attributes, model="-5", sku="\tSKU", gtin="\r123")
    db.session.commit()
    shopify = parse(render_export([row], "shopify", fake_url).body)[0]
    assert shopify["Vendor"] == "'+Brand" and shopify["Type"] == "'@Cat"
    assert shopify["Variant SKU"] == "'\tSKU" and shopify["Variant Barcode"] == "'\r123"
    generic = parse(render_export([row], "csv", fake_url).body)[0]
    assert list(generic.keys()) == GENERIC_COLUMNS
    assert generic["model"] == "'-5" and generic["brand"] == "'+Brand" and generic["category"] == "'@Cat"
    for cell in list(shopify.values()) + list(generic.values()):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_generic_csv_and_json(listing):
    generic = parse(render_export([listing], "csv", fake_url).body)[0]
    assert generic["price"] == "19.60" and generic["currency"] == "EUR" and generic["status"] == "ready"
    assert generic["image_urls"].split(" ") == [fake_url(i) for i in listing.image_order]
    assert generic["completeness"] == "100"
    data = json.loads(render_export([listing], "json", fake_url).body)
    record = data["listings"][0]
    assert record["price"] == "19.60" and record["currency"] == "EUR"
    assert record["titles"]["80"] == "Aurum Curb Chain Bracelet"
    assert record["images"][0] == {"position": 1, "url": fake_url(listing.image_order[0])}
    assert record["pricing"]["rule"] == "median of 1 competitor price(s) −2 %"


def test_listings_page_and_selection_export(manager_client, listing, org):
    no_listing = make_product(org, name="Still processing")
    page = manager_client.get("/listings").get_data(as_text=True)
    assert listing.title in page and "Still processing" in page and "not built yet" in page
    response = manager_client.get(f"/listings/export?format=shopify&ids={listing.product_id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="listings-shopify.csv"' in response.headers["Content-Disposition"]
    rows = parse(response.get_data(as_text=True))
    assert rows[0]["Handle"] == listing.slug
    # image URLs are absolute URLs of the pipeline's authorised image route
    assert rows[0]["Image Src"] == "" or rows[0]["Image Src"].startswith("http://localhost/")
    only_draft = manager_client.get(f"/listings/export?format=json&ids={no_listing.id}")
    assert only_draft.status_code == 422 and "has a listing yet" in only_draft.get_data(as_text=True)
    assert manager_client.get("/listings/export?format=csv").status_code == 422
    assert manager_client.get(f"/listings/export?format=xml&ids={listing.product_id}").status_code == 422
    assert manager_client.get("/listings/export?ids=abc").status_code == 422
    assert "Still processing" in manager_client.get("/listings?status=none").get_data(as_text=True)
    assert "Still processing" not in manager_client.get("/listings?status=ready").get_data(as_text=True)
    partial = manager_client.htmx("GET", "/listings?q=aurum").get_data(as_text=True)
    assert "<html" not in partial and listing.title in partial


def test_one_product_export_and_listing_page(manager_client, listing):
    response = manager_client.get(f"/listings/products/{listing.product_id}/export?format=json")
    assert response.status_code == 200
    assert 'filename="aurum-curb-chain-bracelet.json"' in response.headers["Content-Disposition"]
    assert json.loads(response.data)["listings"][0]["slug"] == listing.slug
    page = manager_client.get(f"/listings/products/{listing.product_id}").get_data(as_text=True)
    assert "median of 1 competitor price(s)" in page and "aurum-curb-chain-bracelet" in page


def test_other_organisations_products_are_not_exported(manager_client, other_org):
    theirs = make_product(other_org)
    run_phases(theirs, "market", "seo", "listing")
    assert manager_client.get(f"/listings/export?ids={theirs.id}").status_code == 404
    assert manager_client.get(f"/listings/products/{theirs.id}/export").status_code == 404
    assert "Curb Chain" not in manager_client.get("/listings").get_data(as_text=True)

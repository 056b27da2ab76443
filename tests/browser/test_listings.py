"""Price list upload with row errors, then selecting listings and downloading a Shopify CSV."""
from __future__ import annotations

import csv
import io

from playwright.sync_api import expect

from app.extensions import db
from tests.browser.conftest import sign_in
from tests.listings.helpers import make_product, run_phases

BAD = b"GTIN,MSRP,Competitor price\n4006381333931,25.00,20.00\n4006381333932,10,9\n"


def test_price_list_errors_then_listing_export(page, manager, org, tmp_path):
    first = make_product(org)
    other = make_product(org, name="Box Chain Necklace", gtin=None)
    sign_in(page, manager)
    csv_file = tmp_path / "prices.csv"
    csv_file.write_bytes(BAD)

    page.goto("/price-lists")
    page.set_input_files("input[name=file]", str(csv_file))
    page.get_by_role("button", name="Check and save").click()
    expect(page.locator("#row-errors")).to_contain_text("Row 3")
    expect(page.locator("#row-errors")).to_contain_text("check digit")
    page.set_input_files("input[name=file]", str(csv_file))
    page.get_by_label("Save the good rows and skip the rows with errors").check()
    page.get_by_role("button", name="Check and save").click()
    expect(page.locator("h1")).to_have_text("prices.csv")
    expect(page.locator("#entries")).to_contain_text("20.00")

    db.session.rollback()  # end the test's read snapshot so it sees what the server wrote
    for product in (first, other):
        run_phases(product, "market", "seo", "listing")
    page.goto("/listings")
    expect(page.locator("#listing-rows")).to_contain_text("Box Chain Necklace")
    page.get_by_label("Select Curb Chain Bracelet").check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Shopify CSV").click()
    download = download_info.value
    assert download.suggested_filename == "listings-shopify.csv"
    rows = list(csv.DictReader(io.StringIO(download.path().read_text(encoding="utf-8"), newline="")))
    assert {r["Handle"] for r in rows} == {"aurum-curb-chain-bracelet"}
    assert rows[0]["Variant Price"] == "19.60" and rows[0]["Status"] == "active"

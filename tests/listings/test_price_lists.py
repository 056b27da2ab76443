"""Price list upload: parsing, per-row errors before anything is written, entries, pages."""
from __future__ import annotations

import io
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from app.core.errors import InvalidInput
from app.extensions import db
from app.listings.price_lists import (
    PriceList,
    PriceListEntry,
    PriceListRejected,
    parse_price_list,
    price_list_delete,
    price_list_import,
    price_points_for,
)

GOOD = (
    "GTIN,SKU,MSRP,Competitor price,Source,Date\n"
    "4006381333931,,24.99,19.90,Shop A,2026-10-01\n"
    ",CB-18,\"€21,50\",18.00,Shop B,01.10.2026\n"
    "036000291452,,,\"US $12.00\",Shop C,\n"
).encode()
BAD = (
    b"EAN;SKU;RRP;Competitor price;Competitor price 2\n"
    b"4006381333932;;10;9;8\n"        # wrong check digit
    b";;10;9;8\n"                      # no identifier
    b"4006381333931;;ten;9;8\n"        # unparseable MSRP
    b"4006381333931;;;;\n"             # no price at all
    b"4006381333931;;12,00;11;10,5\n"  # good
)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_parse_good_file():
    parsed = parse_price_list(GOOD, currency="EUR", source="List")
    assert not parsed.errors
    first, second, third = parsed.rows
    assert first.gtin == "4006381333931" and first.prices == [("msrp", D("24.99"), "EUR", "Shop A"),
                                                              ("competitor", D("19.90"), "EUR", "Shop A")]
    assert str(first.observed_on) == "2026-10-01" and str(second.observed_on) == "2026-10-01"
    assert second.sku == "CB-18" and second.prices[0][1:3] == (D("21.50"), "EUR")
    assert third.gtin == "0036000291452" and third.prices == [("competitor", D("12.00"), "USD", "Shop C")]


def test_parse_reports_every_bad_row_with_its_number():
    parsed = parse_price_list(BAD, currency="EUR", source="List")
    by_row = {}
    for error in parsed.errors:
        by_row.setdefault(error.row_number, []).append(error.message)
    assert sorted(by_row) == [2, 3, 4, 5]
    assert "check digit" in by_row[2][0]
    assert "neither a GTIN nor a SKU" in by_row[3][0]
    assert by_row[4][0].startswith("RRP:")
    assert "no price" in by_row[5][0]
    assert len(parsed.rows) == 1 and [p[3] for p in parsed.rows[0].prices] == [
        "List", "List (Competitor price)", "List (Competitor price 2)"]


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"name,price\nx,1\n", "GTIN"),
    (b"gtin,note\n4006381333931,x\n", "MSRP"),
    (b"gtin,msrp\n", "no price rows"),
])
def test_whole_file_problems(data, message):
    from app.batches.csv_intake import CsvRejected

    with pytest.raises(CsvRejected, match=message):
        parse_price_list(data, currency="EUR", source="x")


def test_import_with_bad_rows_writes_nothing(app, org, manager):
    with pytest.raises(PriceListRejected) as caught:
        price_list_import(org_id=org.id, by=manager, filename="bad.csv", data=BAD, currency="EUR")
    assert len(caught.value.errors) == 4
    db.session.rollback()
    assert _count(PriceList) == 0 and _count(PriceListEntry) == 0


def test_import_skipping_bad_rows_keeps_the_good_ones(app, org, manager):
    price_list = price_list_import(org_id=org.id, by=manager, filename="bad.csv", data=BAD, currency="EUR",
                                   skip_bad_rows=True)
    assert price_list.row_count == 1 and price_list.skipped_rows == 4
    assert _count(PriceListEntry) == 3


def test_import_and_read_points_by_gtin_or_sku(app, org, other_org, manager):
    price_list = price_list_import(org_id=org.id, by=manager, filename="prices.csv", data=GOOD, currency="EUR",
                                   name="October prices")
    assert price_list.name == "October prices" and price_list.row_count == 3
    assert _count(PriceListEntry) == 5
    points = price_points_for(org_id=org.id, gtin="4006381333931", sku="CB-18")
    assert sorted((p.kind, p.amount) for p in points) == [("competitor", D("18.00")), ("competitor", D("19.90")),
                                                          ("msrp", D("21.50")), ("msrp", D("24.99"))]
    # a UPC-A is found by its 12 digits as well as its 13-digit form
    assert [p.currency for p in price_points_for(org_id=org.id, gtin="036000291452")] == ["USD"]
    assert price_points_for(org_id=other_org.id, gtin="4006381333931", sku="CB-18") == []
    assert price_points_for(org_id=org.id) == []


def test_bad_currency_and_delete(app, org, manager):
    with pytest.raises(InvalidInput, match="currency"):
        price_list_import(org_id=org.id, by=manager, filename="p.csv", data=GOOD, currency="euro")
    price_list = price_list_import(org_id=org.id, by=manager, filename="p.csv", data=GOOD, currency="EUR")
    price_list_delete(org_id=org.id, price_list_id=price_list.id, by=manager)
    assert _count(PriceList) == 0 and _count(PriceListEntry) == 0


def test_upload_page_shows_row_errors_and_writes_nothing(manager_client):
    response = manager_client.post("/price-lists", data={
        "currency": "EUR", "name": "", "file": (io.BytesIO(BAD), "bad.csv")}, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Row 2" in page and "check digit" in page and "nothing was saved" in page
    assert _count(PriceList) == 0


def test_upload_page_saves_and_lists_entries(manager_client):
    response = manager_client.post("/price-lists", data={
        "currency": "EUR", "name": "Autumn", "file": (io.BytesIO(GOOD), "prices.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    price_list = db.session.scalar(select(PriceList))
    page = manager_client.get(f"/price-lists/{price_list.id}").get_data(as_text=True)
    assert "Autumn" in page and "4006381333931" in page and "19.90" in page and "Shop B" in page
    assert "Autumn" in manager_client.get("/price-lists").get_data(as_text=True)


def test_upload_without_file_is_a_form_error(manager_client):
    response = manager_client.post("/price-lists", data={"currency": "EUR"}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose a CSV file" in response.get_data(as_text=True)


def test_staff_cannot_upload(staff_client):
    assert staff_client.get("/price-lists").status_code == 403


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "cp1252"])
def test_encodings_and_delimiters_are_detected(encoding):
    text = GOOD.decode().replace(",", ";").replace('"€21;50"', '"€21,50"').replace('"US $12.00"', "12.00")
    parsed = parse_price_list(text.encode(encoding), currency="EUR", source="x")
    assert not parsed.errors and len(parsed.rows) == 3
    assert parsed.rows[1].prices[0][1:3] == (D("21.50"), "EUR")


@pytest.mark.parametrize("name", ["null_byte.csv", "test_utf16_big.csv", "bad.csv", "test_empty_columns_long_row.csv"])
def test_awkward_files_are_refused_with_a_reason(manager_client, name):
    from tests.conftest import FIXTURES

    data = (FIXTURES / "csv_edge" / name).read_bytes()
    response = manager_client.post("/price-lists", data={"currency": "EUR", "file": (io.BytesIO(data), name)},
                                   content_type="multipart/form-data")
    assert response.status_code == 422
    assert "class=\"error\"" in response.get_data(as_text=True)
    assert _count(PriceList) == 0

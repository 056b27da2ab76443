"""Inventory pages: roles, list filters, inline adjustment, item page, rules, imports."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.inventory.import_models import ImportStatus, SupplierImport
from app.inventory.models import CategoryRule, Item, StockMovement
from tests.conftest import FIXTURES
from tests.inventory.factories import make_item

AE = FIXTURES / "aliexpress"


def test_staff_may_view_but_not_adjust(org, staff_client):
    item = make_item(org, sku="ABC-1", on_hand=4)
    page = staff_client.get("/inventory/")
    assert page.status_code == 200 and b'data-testid="available-ABC-1"' in page.data
    assert b"Apply" not in page.data
    assert staff_client.post(f"/inventory/items/{item.id}/adjust", data={"delta": "1", "reason": "x"}).status_code == 403
    assert staff_client.get(f"/inventory/items/{item.id}").status_code == 200
    assert staff_client.post("/inventory/imports", data={}).status_code == 403
    for path in ("/inventory/rules", "/inventory/imports", "/"):
        response = staff_client.get(path)
        assert response.status_code == 200 and b"Delete" not in response.data and b"Preview" not in response.data


def test_list_search_filters_and_sorting(org, manager_client):
    make_item(org, sku="CH-1", title="Paperclip bracelet chain", on_hand=10, category_path="Chains › Bracelet Chains",
              attributes={"color": "Gold"}, reorder_point=2)
    make_item(org, sku="CH-2", title="Rolo necklace chain", on_hand=1, category_path="Chains › Necklace Chains",
              reorder_point=3)
    make_item(org, sku="EA-1", title="Ear hooks", on_hand=0, category_path="Earrings › Components")

    def skus(query: str) -> list[str]:
        body = manager_client.get("/inventory/?" + query).get_data(as_text=True)
        return [s for s in ("CH-1", "CH-2", "EA-1") if f'data-testid="row-{s}"' in body]

    assert skus("q=gold") == ["CH-1"]            # attribute value
    assert skus("q=ch-2") == ["CH-2"]            # SKU, case-insensitive
    assert skus("q=chain+rolo") == ["CH-2"]      # every word must match
    assert skus("q=100%25") == []                # a % is a character, not a wildcard
    chains = db.session.scalar(select(Item).where(Item.sku == "CH-1")).category.parent_id
    assert skus(f"category={chains}") == ["CH-1", "CH-2"]  # a category includes its sub-categories
    assert skus("status=out_of_stock") == ["EA-1"]
    assert skus("status=low_stock") == ["CH-2"]
    assert skus("low=1") == ["CH-2", "EA-1"]
    body = manager_client.get("/inventory/?sort=-available").get_data(as_text=True)
    assert body.index("row-CH-1") < body.index("row-CH-2") < body.index("row-EA-1")
    assert manager_client.get("/inventory/?sort=nonsense&status=bogus&category=x&page=-3").status_code == 200


def test_htmx_search_returns_only_the_results(org, manager_client):
    make_item(org, sku="ABC-1")
    response = manager_client.htmx("GET", "/inventory/?q=abc")
    assert response.status_code == 200
    assert b"<html" not in response.data and b'data-testid="row-ABC-1"' in response.data


def test_inline_adjustment_returns_the_row(org, manager_client):
    item = make_item(org, sku="ABC-1", on_hand=4)
    response = manager_client.htmx("POST", f"/inventory/items/{item.id}/adjust", data={"delta": "-3", "reason": "damaged"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith("<tr") and 'data-testid="available-ABC-1"><strong>1</strong>' in body
    db.session.expire_all()
    assert db.session.get(Item, item.id).on_hand == 1


def test_bad_adjustments_answer_4xx_with_the_reason(org, manager_client):
    item = make_item(org, sku="ABC-1", on_hand=2)
    cases = [({"delta": "x", "reason": "count"}, 400, "whole number"),
             ({"delta": "0", "reason": "count"}, 422, "other than zero"),
             ({"delta": "1", "reason": ""}, 422, "Say why"),
             ({"delta": "-5", "reason": "lost"}, 409, "at most 2 can be removed")]
    for data, status, message in cases:
        response = manager_client.htmx("POST", f"/inventory/items/{item.id}/adjust", data=data)
        assert response.status_code == status, data
        assert message in response.get_data(as_text=True)
        assert response.headers["HX-Retarget"] == "#toasts"
    assert db.session.scalar(select(func.count()).select_from(StockMovement)) == 1  # the initial stock only


def test_item_page_shows_the_ledger_and_edits(org, manager_client, manager):
    item = make_item(org, sku="ABC-1", on_hand=4, by=manager)
    page = manager_client.get(f"/inventory/items/{item.id}").get_data(as_text=True)
    assert "initial stock" in page and "+4" in page
    response = manager_client.post(f"/inventory/items/{item.id}", data={"title": "Renamed", "reorder_point": "-1"})
    assert response.status_code == 422 and "reorder point" in response.get_data(as_text=True)
    response = manager_client.post(f"/inventory/items/{item.id}", data={"title": "Renamed", "reorder_point": "5",
                                                                        "category_path": "Charms > Pendants",
                                                                        "price": "12.5", "currency": "eur"})
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(Item, item.id)
    assert (row.title, row.reorder_point, row.category_path, str(row.price), row.currency) == \
        ("Renamed", 5, "Charms › Pendants", "12.50", "EUR")


def test_new_item_form(org, manager_client):
    response = manager_client.post("/inventory/items/new", data={"sku": "NEW-1", "title": "New", "initial_stock": "3"})
    assert response.status_code == 302
    assert manager_client.post("/inventory/items/new", data={"sku": "NEW-1", "title": "Again"}).status_code == 409
    response = manager_client.post("/inventory/items/new", data={"sku": "bad sku!", "title": "x"})
    assert response.status_code == 422 and "A SKU is" in response.get_data(as_text=True)


def test_rules_page_seeds_edits_and_tries(org, manager_client):
    page = manager_client.get("/inventory/rules?try=Braclet+Chain+gold").get_data(as_text=True)
    assert "Chains › Bracelet Chains" in page and "similar to keyword" in page
    rule = db.session.scalar(select(CategoryRule).where(CategoryRule.path == "Findings › Carabiners"))
    response = manager_client.post(f"/inventory/rules/{rule.id}", data={"path": "Findings › Carabiners",
                                                                       "keywords": "carabiner, swivel clasp",
                                                                       "priority": "85"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(CategoryRule, rule.id).keywords == ["carabiner", "swivel clasp"]
    bad = manager_client.post("/inventory/rules", data={"path": "X", "keywords": "", "priority": "1"})
    assert bad.status_code == 422 and "needs at least one keyword" in bad.get_data(as_text=True)
    dup = manager_client.post("/inventory/rules", data={"path": "Findings > Carabiners", "keywords": "a", "priority": "1"})
    assert dup.status_code == 409


def test_upload_preview_confirm_and_report(org, manager_client, run_jobs):
    with open(AE / "sample-orders.json", "rb") as fh:
        response = manager_client.post("/inventory/imports", data={"file": (fh, "orders.json")},
                                       content_type="multipart/form-data")
    assert response.status_code == 302
    record = db.session.scalar(select(SupplierImport))
    page = manager_client.get(f"/inventory/imports/{record.id}").get_data(as_text=True)
    assert "What importing would do" in page and "no rule matched" in page
    assert db.session.scalar(select(func.count()).select_from(Item)) == 0
    assert manager_client.post(f"/inventory/imports/{record.id}/confirm").status_code == 302
    run_jobs()
    page = manager_client.get(f"/inventory/imports/{record.id}").get_data(as_text=True)
    assert "Created 4" in page
    report = manager_client.get(f"/inventory/imports/{record.id}/report.csv")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    assert report.get_data(as_text=True).splitlines()[0].startswith("row,outcome,message")


def test_malformed_upload_cannot_be_confirmed_and_can_be_cancelled(org, manager_client):
    with open(AE / "malformed-orders.json", "rb") as fh:
        manager_client.post("/inventory/imports", data={"file": (fh, "bad.json")}, content_type="multipart/form-data")
    record = db.session.scalar(select(SupplierImport))
    response = manager_client.post(f"/inventory/imports/{record.id}/confirm")
    assert response.status_code == 422 and "rows have errors" in response.get_data(as_text=True)
    assert manager_client.post(f"/inventory/imports/{record.id}/cancel").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(SupplierImport)) == 0
    assert db.session.scalar(select(func.count()).select_from(Item)) == 0


def test_refused_uploads_say_why(org, manager_client):
    with open(AE / "not-json.json", "rb") as fh:
        response = manager_client.post("/inventory/imports", data={"file": (fh, "x.json")},
                                       content_type="multipart/form-data")
    assert response.status_code == 422 and "not valid JSON" in response.get_data(as_text=True)
    assert manager_client.post("/inventory/imports", data={}).status_code == 422


def test_csv_mapping_after_a_refusal_keeps_the_file(org, manager_client):
    text = (AE / "sample-orders.csv").read_text(encoding="utf-8").replace("Order Date,", "Bought On,", 1)
    response = manager_client.post("/inventory/imports", data={"file": (__import__("io").BytesIO(text.encode()), "x.csv")},
                                   content_type="multipart/form-data")
    assert response.status_code == 422 and "Bought On" in response.get_data(as_text=True)
    response = manager_client.post("/inventory/imports", data={"use_pending": "1", "map_order_date": "Bought On"})
    assert response.status_code == 302
    assert db.session.scalar(select(SupplierImport.status)) == ImportStatus.PREVIEWED


def test_dashboard_cards(org, manager_client):
    make_item(org, sku="LOW-1", on_hand=1, reorder_point=5)
    make_item(org, sku="OK-1", on_hand=10, reorder_point=5)
    page = manager_client.get("/").get_data(as_text=True)
    assert 'data-testid="inventory-count">2<' in page and "1 at or below reorder point" in page
    assert "LOW-1" in page and "OK-1" not in page

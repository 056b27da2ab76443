"""Supplier imports against the fixture exports: preview, run, re-run, refusals, report."""
from __future__ import annotations

import csv
import io
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.core.errors import InvalidInput
from app.extensions import db
from app.inventory import imports
from app.inventory.import_models import ImportStatus, SupplierImport, SupplierLine
from app.inventory.models import Item, StockMovement
from tests.conftest import FIXTURES

AE = FIXTURES / "aliexpress"


def preview(org, user, name: str, **kwargs) -> SupplierImport:
    return imports.supplier_import_preview(org_id=org.id, by=user, data=(AE / name).read_bytes(),
                                           filename=name, **kwargs)


def run(org, user, name: str, valid_only: bool = False, **kwargs) -> SupplierImport:
    record = preview(org, user, name, **kwargs)
    imports.supplier_import_confirm(org_id=org.id, import_id=record.id, valid_only=valid_only, by=user)
    return imports.supplier_import_run(import_id=record.id)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_preview_writes_no_item_and_says_what_would_happen(org, manager):
    record = preview(org, manager, "sample-orders.json")
    assert record.status == ImportStatus.PREVIEWED and record.total_rows == 5 and record.error_rows == 0
    assert count(Item) == 0 and count(StockMovement) == 0
    outcomes = {r["row"]: r["outcome"] for r in record.report}
    assert outcomes == {1: "create", 2: "create", 3: "create", 4: "create", 5: "skip"}


def test_sample_export_creates_items_with_prices_attributes_and_stock(org, manager):
    record = run(org, manager, "sample-orders.json")
    assert record.status == ImportStatus.COMPLETED
    assert (record.created_count, record.updated_count, record.skipped_count, record.failed_count) == (4, 0, 1, 0)
    cleaner = db.session.scalar(select(Item).where(Item.sku == "AE-1005008226693966-12000044304276428"))
    assert cleaner.title == "SucceBuy Ultrasonic Cleaner 6L"
    assert (cleaner.unit_cost, cleaner.currency) == (Decimal("120.95"), "USD")
    assert cleaner.attributes == {"color": "6L", "ships_from": "GERMANY"}
    assert cleaner.on_hand == 1
    pln = db.session.scalar(select(Item).where(Item.supplier_product_id == "1005008097084586"))
    assert (pln.unit_cost, pln.currency) == (Decimal("129.46"), "PLN")
    awaiting = [r for r in record.report if r["row"] == 4][0]
    assert db.session.get(Item, awaiting["item_id"]).on_hand == 0  # not delivered yet
    for item in db.session.scalars(select(Item)):
        assert item.on_hand == (db.session.scalar(select(func.sum(StockMovement.on_hand_delta))
                                                  .where(StockMovement.item_id == item.id)) or 0)


def test_jewellery_export_gets_the_shops_categories(org, manager):
    record = run(org, manager, "jewellery-orders-135.json")
    assert record.failed_count == 0
    rows = db.session.execute(select(Item.id, Item.category_id)).all()
    paths = Counter(db.session.get(Item, i).category_path for i, _ in rows)
    lines = Counter()
    for line in db.session.scalars(select(SupplierLine)):
        lines[line.item.category_path] += 1
    assert lines == Counter({"Chains › Bracelet Chains": 48, "Earrings › Components": 29, "Charms › Pendants": 24,
                             "Accessories › Bag Accessories": 12, "Chains › Necklace Chains": 10,
                             "Components › Miscellaneous": 6, "Findings › Carabiners": 3,
                             "Findings › Connectors": 3})
    assert sum(paths.values()) == record.created_count
    assert all(r["category_reason"] for r in record.report if r["outcome"] == "create")


def test_importing_the_same_export_again_changes_nothing(org, manager):
    run(org, manager, "jewellery-orders-135.json")
    before = (count(Item), count(StockMovement), db.session.scalar(select(func.sum(Item.on_hand))))
    again = run(org, manager, "jewellery-orders-135.json")
    assert (again.created_count, again.updated_count, again.failed_count) == (0, 0, 0)
    assert again.skipped_count == 135
    assert (count(Item), count(StockMovement), db.session.scalar(select(func.sum(Item.on_hand)))) == before


def test_csv_and_json_of_the_same_purchases_share_line_ids(org, manager):
    run(org, manager, "sample-orders.json")
    again = run(org, manager, "sample-orders.csv")
    assert again.created_count == 0 and again.failed_count == 0


def test_a_changed_status_updates_stock_through_the_ledger(org, manager):
    data = (AE / "sample-orders.json").read_bytes()
    first = imports.supplier_import_preview(org_id=org.id, by=manager, data=data, filename="a.json")
    imports.supplier_import_confirm(org_id=org.id, import_id=first.id, valid_only=False, by=manager)
    imports.supplier_import_run(import_id=first.id)
    delivered = data.replace(b'"Awaiting shipment"', b'"Completed"')
    second = imports.supplier_import_preview(org_id=org.id, by=manager, data=delivered, filename="b.json")
    assert [r["outcome"] for r in second.report if r["row"] == 4] == ["update"]
    imports.supplier_import_confirm(org_id=org.id, import_id=second.id, valid_only=False, by=manager)
    done = imports.supplier_import_run(import_id=second.id)
    assert done.updated_count == 1
    row = [r for r in done.report if r["row"] == 4][0]
    assert db.session.get(Item, row["item_id"]).on_hand == 1


def test_malformed_export_lists_row_errors_and_writes_nothing(org, manager):
    record = preview(org, manager, "malformed-orders.json")
    assert record.error_rows > 0
    failed = [r for r in record.report if r["outcome"] == "failed"]
    assert len(failed) == record.error_rows and all(r["message"] for r in failed)
    with pytest.raises(InvalidInput, match="rows have errors"):
        imports.supplier_import_confirm(org_id=org.id, import_id=record.id, valid_only=False, by=manager)
    db.session.rollback()
    assert count(Item) == 0 and count(StockMovement) == 0 and count(SupplierLine) == 0


def test_valid_rows_only_imports_the_good_rows_and_reports_the_rest(org, manager):
    record = run(org, manager, "malformed-orders.json", valid_only=True)
    assert record.failed_count == record.error_rows > 0
    assert record.created_count + record.updated_count + record.skipped_count == record.total_rows
    text = imports.report_csv(record)
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)


def test_not_json_is_refused_with_a_reason(org, manager):
    with pytest.raises(InvalidInput, match="not valid JSON"):
        preview(org, manager, "not-json.json")
    db.session.rollback()
    assert count(SupplierImport) == 0


def test_csv_with_a_column_mapping(org, manager):
    text = (AE / "sample-orders.csv").read_text(encoding="utf-8").replace("Order Date,", "Bought On,", 1)
    with pytest.raises(InvalidInput, match="Order Date"):
        imports.supplier_import_preview(org_id=org.id, by=manager, data=text.encode(), filename="x.csv")
    db.session.rollback()
    record = imports.supplier_import_preview(org_id=org.id, by=manager, data=text.encode(),
                                             filename="x.csv", column_mapping={"order_date": "Bought On"})
    assert record.total_rows == 5 and record.error_rows == 0


@pytest.mark.parametrize("value, expected", [("=SUM(A1)", "'=SUM(A1)"), ("+1", "'+1"), ("-2", "'-2"),
                                             ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("ok", "ok"),
                                             (None, "")])
def test_csv_cells_cannot_become_formulas(value, expected):
    assert imports.csv_safe(value) == expected


def test_the_job_runs_on_a_real_worker_and_twice_is_harmless(org, manager, run_jobs):
    record = preview(org, manager, "sample-orders.json")
    imports.supplier_import_confirm(org_id=org.id, import_id=record.id, valid_only=False, by=manager)
    assert run_jobs() == 1
    db.session.expire_all()
    record = db.session.get(SupplierImport, record.id)
    assert record.status == ImportStatus.COMPLETED and record.processed_rows == 5
    movements = count(StockMovement)
    imports.supplier_import_run(import_id=record.id)  # a duplicate delivery of the job
    assert count(StockMovement) == movements


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"[" * 100_000 + b"]" * 100_000, "deep.json", "nested more than 32 levels deep"),
    (b"%PDF-1.7\n" + bytes(3000), "orders.csv", "The file is a PDF document, not a text file"),
])
def test_unreadable_files_are_refused_with_a_reason(org, manager, data, name, message):
    with pytest.raises(InvalidInput, match=message):
        imports.supplier_import_preview(org_id=org.id, by=manager, data=data, filename=name)
    db.session.rollback()
    assert count(SupplierImport) == 0


def test_a_large_import_refreshes_the_planners_statistics(org, manager, monkeypatch):
    """The list pages' plans depend on the table's size (SQLite never gathers statistics by itself)."""
    from sqlalchemy import text

    def analysed() -> bool:
        if db.engine.dialect.name == "sqlite":
            has_table = db.session.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first()
            found = has_table and db.session.execute(text("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'inventory_items'")).first()
        else:
            found = db.session.scalar(text(
                "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'inventory_items'"))
        db.session.rollback()
        return bool(found)

    small = run(org, manager, "sample-orders.json")  # 4 items: below the threshold, nothing refreshed
    assert small.status == ImportStatus.COMPLETED and not analysed()
    monkeypatch.setattr(imports, "STATISTICS_AFTER_CREATED", 10)
    record = run(org, manager, "jewellery-orders-135.json")
    assert record.created_count >= 10 and analysed()

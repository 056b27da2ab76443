"""Supplier imports: preview (writes no stock), confirm (queues the job), run (idempotent by line id).

Policy on bad rows: a file with row errors cannot be imported as it is. The preview lists every
error; the user either fixes the file and uploads it again, or ticks "import only the valid rows",
in which case the rows with errors are left out and listed as failed in the report.
"""
from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.core import audit, database, storage
from app.core.database import outside_write_lock
from app.core.errors import Conflict, DomainError, InvalidInput, NotFound
from app.core.events import publish_after_commit
from app.core.models import User, user_id_of, utcnow
from app.core.queue import enqueue_after_commit
from app.core.tenancy import get_scoped
from app.extensions import db
from app.inventory.category_rules import CategoryRule as CompiledRule
from app.inventory.category_rules import assign_category
from app.inventory.import_models import ImportStatus, SupplierImport, SupplierLine
from app.inventory.models import Item, PricingRule
from app.inventory.pricing import price_unpriced, pricing_rule_for
from app.inventory.rules import compiled_rules
from app.inventory.services import item_build
from app.inventory.stock import EVENT, stock_receive
from app.inventory.supplier_parsing import CSV_HEADER_ALIASES, ExportRejected, ParsedExport, parse_export
from app.inventory.supplier_parsing import SupplierLine as Parsed

log = logging.getLogger(__name__)
PROGRESS_EVENT = "supplier-import-progress"
CHUNK = 25
STATISTICS_AFTER_CREATED = 1000  # an import creating this many items refreshes the planner's statistics
MAX_BYTES = 20 * 1024 * 1024
RECEIVED_STATUSES = {"completed", "finished", "delivered", "received", "confirmed receipt"}
CANCELLED_STATUSES = {"cancelled", "canceled", "closed", "refunded", "order closed"}
MAPPABLE_FIELDS = tuple(CSV_HEADER_ALIASES)


def received_quantity(line: Parsed) -> int:
    """Units that reached the warehouse: all of a completed (or status-less) line, none otherwise."""
    status = (line.status or "").strip().casefold()
    return line.quantity if not status or status in RECEIVED_STATUSES else 0


def sku_for(line: Parsed) -> str:
    return f"AE-{line.supplier_product_id}" + (f"-{line.supplier_sku_id}" if line.supplier_sku_id else "")


def _order_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


@dataclass
class Outcome:
    row: int
    outcome: str  # create | update | unchanged | skip | failed
    message: str
    line_id: str | None = None
    sku: str | None = None
    title: str | None = None
    category: str | None = None
    category_reason: str | None = None
    item_id: int | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _parse(data: bytes, filename: str, column_mapping: dict | None, default_currency: str | None) -> ParsedExport:
    try:
        return parse_export(data, filename, column_mapping=column_mapping or None,
                            default_currency=default_currency or None)
    except ExportRejected as exc:
        raise InvalidInput(f"The file was refused: {exc.message}") from None
    except ValueError as exc:  # a mapping that names an unknown field, or a mapping on a JSON file
        raise InvalidInput(str(exc)) from None


def _existing_item(org_id: int, line: Parsed) -> Item | None:
    return db.session.scalar(select(Item).where(
        Item.organisation_id == org_id, Item.supplier == line.supplier,
        Item.supplier_product_id == line.supplier_product_id,
        Item.supplier_sku_id.is_(None) if line.supplier_sku_id is None
        else Item.supplier_sku_id == line.supplier_sku_id).limit(1))


def _stored_line(org_id: int, line: Parsed) -> SupplierLine | None:
    return db.session.scalar(select(SupplierLine).where(
        SupplierLine.organisation_id == org_id, SupplierLine.supplier == line.supplier,
        SupplierLine.supplier_line_id == line.supplier_line_id))


def _line_changes(stored: SupplierLine, line: Parsed) -> list[str]:
    changes = []
    if stored.quantity != line.quantity:
        changes.append(f"quantity {stored.quantity} → {line.quantity}")
    if stored.received_quantity != received_quantity(line):
        changes.append(f"received {stored.received_quantity} → {received_quantity(line)}")
    if stored.unit_price != line.unit_price or stored.currency != line.currency:
        changes.append(f"price {stored.unit_price} {stored.currency} → {line.unit_price} {line.currency}")
    if (stored.order_status or None) != (line.status or None):
        changes.append(f"status {stored.order_status or '—'} → {line.status or '—'}")
    return changes


def plan_line(org_id: int, line: Parsed, rules: list[CompiledRule], planned_skus: set[str]) -> Outcome:
    """What importing this line would do, without writing anything."""
    base = Outcome(row=line.row_number, outcome="", message="", line_id=line.supplier_line_id, title=line.title)
    stored = _stored_line(org_id, line)
    if stored is not None:
        item = db.session.get(Item, stored.item_id)
        base.sku, base.item_id, base.category = item.sku, item.id, item.category_path
        changes = _line_changes(stored, line)
        base.outcome = "update" if changes else "unchanged"
        base.message = "; ".join(changes) if changes else "already imported, nothing changed"
        return base
    item = _existing_item(org_id, line)
    received = received_quantity(line)
    if item is not None or sku_for(line) in planned_skus:
        base.sku = item.sku if item else sku_for(line)
        base.item_id = item.id if item else None
        base.category = item.category_path if item else None
        base.outcome = "update"
        base.message = f"new purchase of an existing item: +{received} on hand" if received else \
            f"new purchase of an existing item, not received yet ({line.status})"
        return base
    decision = assign_category(line.title, rules)
    base.sku, base.category, base.category_reason = sku_for(line), decision.path, decision.reason
    if (line.status or "").strip().casefold() in CANCELLED_STATUSES:
        base.outcome, base.message = "skip", f"order {line.status}: nothing received, no item created"
        return base
    planned_skus.add(base.sku)
    base.outcome = "create"
    base.message = f"new item with {received} on hand" if received else \
        f"new item, nothing on hand yet (order {line.status})"
    return base


def _error_outcomes(parsed: ParsedExport) -> list[Outcome]:
    by_row: dict[int, list[str]] = {}
    for error in parsed.errors:
        by_row.setdefault(error.row_number, []).append(f"{error.field}: {error.message}" if error.field
                                                       else error.message)
    return [Outcome(row=row, outcome="failed", message="; ".join(messages)) for row, messages in sorted(by_row.items())]


def supplier_import_preview(*, org_id: int, by: User | None, data: bytes, filename: str,
                            column_mapping: dict | None = None, default_currency: str | None = None) -> SupplierImport:
    """Parse an export and record what importing it would do; no item or stock is touched. Commits."""
    filename = (filename or "export").strip()[:255] or "export"
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split the export.")
    mapping = {k: v for k, v in (column_mapping or {}).items() if v}
    default_currency = (default_currency or "").strip().upper() or None
    by_id = user_id_of(by)
    # Parsing and planning read the file and the catalogue only: no write lock while they run.
    with outside_write_lock():
        parsed = _parse(data, filename, mapping, default_currency)
        rules = compiled_rules(org_id)
        planned: set[str] = set()
        outcomes = [plan_line(org_id, line, rules, planned) for line in parsed.rows] + _error_outcomes(parsed)
        outcomes.sort(key=lambda o: o.row)
        stored = storage.save_bytes(data, suffix="." + parsed.format)
    record = SupplierImport(
        organisation_id=org_id, supplier="aliexpress", filename=filename, file_sha256=stored.sha256,
        file_size=stored.size, format=parsed.format, column_mapping=mapping or None,
        default_currency=default_currency, status=ImportStatus.PREVIEWED, total_rows=len(parsed.rows),
        error_rows=len({e.row_number for e in parsed.errors}), created_by_id=by_id,
        report=[o.as_dict() for o in outcomes]
        + [{"row": w.row_number, "outcome": "warning", "message": w.message} for w in parsed.warnings])
    db.session.add(record)
    db.session.commit()
    return record


def _get(org_id: int, import_id: int) -> SupplierImport:
    record = get_scoped(SupplierImport, import_id, org_id)
    if record is None:
        raise NotFound("That import does not exist.")
    return record


def supplier_import_confirm(*, org_id: int, import_id: int, valid_only: bool, by: User | None) -> SupplierImport:
    """Queue the import job (refused while rows have errors, unless only valid rows are wanted). Commits."""
    record = _get(org_id, import_id)
    if record.status != ImportStatus.PREVIEWED:
        raise Conflict(f"This import is already {record.status.label.lower()}.")
    if record.error_rows and not valid_only:
        raise InvalidInput(f"{record.error_rows} rows have errors. Fix the file and upload it again, or tick "
                           "'Import only the valid rows'.")
    if not record.total_rows:
        raise InvalidInput("There is no valid row to import in this file.")
    record.status, record.valid_only = ImportStatus.QUEUED, bool(valid_only)
    record.processed_rows = 0
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="supplier_import.confirm", object_type="supplier_import",
                 object_id=record.id, after={"filename": record.filename, "rows": record.total_rows,
                                             "valid_only": record.valid_only})
    enqueue_after_commit("app.inventory.tasks.run_supplier_import", record.id, org_id=org_id, timeout=1800)
    publish_after_commit(org_id, PROGRESS_EVENT, {"import_id": record.id})
    db.session.commit()
    return record


def supplier_import_cancel(*, org_id: int, import_id: int, by: User | None) -> None:
    """Drop a previewed import (nothing was imported). Commits."""
    record = _get(org_id, import_id)
    if record.status != ImportStatus.PREVIEWED:
        raise Conflict("Only an import that has not started can be cancelled.")
    db.session.delete(record)
    db.session.commit()


def _apply_line(org_id: int, record: SupplierImport, line: Parsed, rules: list[CompiledRule],
                pricing_rule: PricingRule | None = None) -> Outcome:
    outcome = plan_line(org_id, line, rules, set())
    if outcome.outcome in ("unchanged", "skip"):
        return outcome
    received = received_quantity(line)
    stored = _stored_line(org_id, line)
    if outcome.outcome == "create":
        item = item_build(org_id=org_id, sku=outcome.sku, title=line.title, category_path=outcome.category,
                          attributes=line.attributes, unit_cost=line.unit_price, currency=line.currency,
                          supplier=line.supplier, supplier_product_id=line.supplier_product_id,
                          supplier_sku_id=line.supplier_sku_id, image=line.image_url)
        outcome.item_id = item.id
        delta = received
    else:
        item = db.session.get(Item, stored.item_id) if stored else _existing_item(org_id, line)
        outcome.item_id, outcome.sku = item.id, item.sku
        delta = received - (stored.received_quantity if stored else 0)
        if stored is None or stored.unit_price != line.unit_price or stored.currency != line.currency:
            item.unit_cost, item.currency = line.unit_price, line.currency  # the latest purchase price
    if price_unpriced(pricing_rule, item):
        outcome.message += f"; priced {item.price} {item.currency} by the pricing rule"
    if stored is None:
        stored = SupplierLine(organisation_id=org_id, supplier=line.supplier, supplier_line_id=line.supplier_line_id,
                              item_id=item.id)
    stored.supplier_order_id, stored.import_id, stored.quantity = line.supplier_order_id, record.id, line.quantity
    stored.received_quantity, stored.unit_price, stored.currency = received, line.unit_price, line.currency
    stored.order_status, stored.order_date, stored.store = line.status, _order_date(line.order_date), line.store
    db.session.add(stored)
    stock_receive(org_id=org_id, item_id=item.id, delta=delta, reference=f"{line.supplier} order {line.supplier_order_id}",
                  reason=f"supplier import #{record.id}", by=record.created_by, announce=False)
    return outcome


def supplier_import_run(*, import_id: int) -> SupplierImport | None:
    """Apply a queued import in chunks, committing progress; safe to run again (lines are keyed)."""
    record = db.session.get(SupplierImport, import_id)
    if record is None or record.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return record
    org_id = record.organisation_id
    try:
        data = storage.open_path(record.file_sha256, "." + record.format).read_bytes()
        parsed = parse_export(data, record.filename, column_mapping=record.column_mapping or None,
                              default_currency=record.default_currency)
    except (OSError, ExportRejected, ValueError) as exc:
        return _finish(record, ImportStatus.FAILED, error=f"The stored file could not be read again: {exc}")
    record.status, record.started_at, record.processed_rows = ImportStatus.RUNNING, utcnow(), 0
    record.total_rows = len(parsed.rows)
    db.session.commit()
    rules, pricing_rule = compiled_rules(org_id), pricing_rule_for(org_id)
    outcomes: list[Outcome] = []
    for start in range(0, len(parsed.rows), CHUNK):
        chunk = parsed.rows[start:start + CHUNK]
        item_ids: set[int] = set()
        for line in chunk:
            savepoint = db.session.begin_nested()
            try:
                outcome = _apply_line(org_id, record, line, rules, pricing_rule)
                savepoint.commit()
            except DomainError as exc:
                savepoint.rollback()
                outcome = Outcome(row=line.row_number, outcome="failed", message=exc.message,
                                  line_id=line.supplier_line_id, title=line.title, sku=sku_for(line))
            outcomes.append(outcome)
            if outcome.item_id and outcome.outcome in ("create", "update"):
                item_ids.add(outcome.item_id)
        record.processed_rows = start + len(chunk)
        if item_ids:
            publish_after_commit(org_id, EVENT, {"item_ids": sorted(item_ids)})
        publish_after_commit(org_id, PROGRESS_EVENT, {"import_id": record.id})
        db.session.commit()
    if record.valid_only:
        outcomes += _error_outcomes(parsed)
    outcomes.sort(key=lambda o: o.row)
    counts = {k: sum(1 for o in outcomes if o.outcome == k) for k in ("create", "update", "unchanged", "skip", "failed")}
    record.created_count, record.updated_count = counts["create"], counts["update"]
    record.skipped_count, record.failed_count = counts["unchanged"] + counts["skip"], counts["failed"]
    record.report = [o.as_dict() for o in outcomes]
    record = _finish(record, ImportStatus.COMPLETED_WITH_ERRORS if counts["failed"] else ImportStatus.COMPLETED)
    if counts["create"] >= STATISTICS_AFTER_CREATED:
        try:  # the list pages' plans depend on the table's size: a large import changes it
            database.refresh_statistics("inventory_items", "stock_movements")
        except SQLAlchemyError:  # the import is done; the planner keeps its old figures
            db.session.rollback()
            log.warning("statistics not refreshed after import %s", import_id, exc_info=True)
    return record


def _finish(record: SupplierImport, status: ImportStatus, error: str | None = None) -> SupplierImport:
    record.status, record.finished_at, record.error = status, utcnow(), error
    publish_after_commit(record.organisation_id, PROGRESS_EVENT, {"import_id": record.id})
    db.session.commit()
    return record


_UNSAFE_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_UNSAFE_START) else text


REPORT_COLUMNS = ("row", "outcome", "message", "line_id", "sku", "title", "category", "category_reason", "item_id")


def report_csv(record: SupplierImport) -> str:
    """The import's report as CSV text, formula-safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REPORT_COLUMNS)
    for row in record.report or []:
        writer.writerow([csv_safe(row.get(c)) for c in REPORT_COLUMNS])
    return out.getvalue()

"""CSV exports of orders and order lines created in a date range (formula-safe: app.formats.spreadsheet)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.formats.spreadsheet import csv_text
from app.inventory.reports import check_size
from app.orders.models import Order, OrderItem

ORDER_COLUMNS = ["number", "created_at_utc", "status", "payment_status", "due_date", "source", "customer_name",
                 "customer_email", "currency", "subtotal", "tax", "shipping", "total", "lines", "shipments"]
LINE_COLUMNS = ["order_number", "created_at_utc", "order_status", "sku", "title", "quantity", "shipped_quantity",
                "production_status", "unit_price", "line_total", "currency", "chain_length_cm", "charms",
                "engraving"]


def _where(org_id: int, start: datetime, end: datetime) -> tuple:
    return Order.organisation_id == org_id, Order.created_at >= start, Order.created_at < end


def orders_csv(org_id: int, start: datetime, end: datetime) -> str:
    """One row per order created in [start, end), oldest first."""
    where = _where(org_id, start, end)
    check_size(db.session.scalar(select(func.count()).select_from(Order).where(*where)))
    query = (select(Order).options(selectinload(Order.lines), selectinload(Order.shipments)).where(*where)
             .order_by(Order.created_at, Order.id))
    rows = ({"number": o.number, "created_at_utc": o.created_at.strftime("%Y-%m-%d %H:%M:%S"),
             "status": o.status.value, "payment_status": o.payment_status.value,
             "due_date": o.due_date.isoformat() if o.due_date else "", "source": o.source,
             "customer_name": o.customer_name, "customer_email": o.customer_email, "currency": o.currency,
             "subtotal": o.subtotal, "tax": o.tax, "shipping": o.shipping, "total": o.total,
             "lines": len(o.lines), "shipments": len(o.shipments)}
            for o in db.session.scalars(query))
    return csv_text(rows, ORDER_COLUMNS)


def order_lines_csv(org_id: int, start: datetime, end: datetime) -> str:
    """One row per line of the orders created in [start, end), with its customisation."""
    where = _where(org_id, start, end)
    check_size(db.session.scalar(select(func.count()).select_from(OrderItem).join(Order).where(*where)))
    query = (select(OrderItem, Order).join(Order, OrderItem.order_id == Order.id).where(*where)
             .order_by(Order.created_at, Order.id, OrderItem.id))
    rows = ({"order_number": o.number, "created_at_utc": o.created_at.strftime("%Y-%m-%d %H:%M:%S"),
             "order_status": o.status.value, "sku": ln.sku, "title": ln.title, "quantity": ln.quantity,
             "shipped_quantity": ln.shipped_quantity, "production_status": ln.production_status.value,
             "unit_price": ln.unit_price, "line_total": ln.line_total, "currency": o.currency,
             "chain_length_cm": (ln.customisation or {}).get("chain_length_cm", ""),
             "charms": "; ".join(c["sku"] for c in ln.charms),
             "engraving": (ln.customisation or {}).get("engraving", "")}
            for ln, o in db.session.execute(query))
    return csv_text(rows, LINE_COLUMNS)

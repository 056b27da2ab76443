"""Order reads: lists with filters, the staff's to-do view, status counts, past sales."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import load_only, selectinload

from app.core.models import utcnow
from app.core.pagination import Page, like_escape
from app.extensions import db
from app.inventory.models import Category, Item
from app.orders.models import Customer, Design, Order, OrderItem
from app.orders.statuses import IN_WORK, OPEN, SOLD, OrderStatus


@dataclass
class OrderFilters:
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    customer: str = ""
    q: str = ""


def _like(text: str) -> str:
    return f"%{like_escape(text.lower())}%"


def order_list_query(org_id: int, filters: OrderFilters) -> Select:
    """Orders of one organisation matching the list page's filters, newest first."""
    query = select(Order).where(Order.organisation_id == org_id).options(selectinload(Order.lines))
    if filters.status:
        query = query.where(Order.status == OrderStatus(filters.status))
    if filters.date_from:
        query = query.where(Order.created_at >= datetime.combine(filters.date_from, time.min, UTC))
    if filters.date_to:
        query = query.where(Order.created_at < datetime.combine(filters.date_to + timedelta(days=1), time.min, UTC))
    if filters.customer:
        pattern = _like(filters.customer.strip())
        query = query.where(or_(func.lower(Order.customer_name).like(pattern, escape="\\"),
                                func.lower(Order.customer_email).like(pattern, escape="\\")))
    if filters.q:
        pattern = _like(filters.q.strip())
        query = query.where(or_(func.lower(Order.number).like(pattern, escape="\\"),
                                func.lower(Order.customer_name).like(pattern, escape="\\"),
                                func.lower(Order.customer_email).like(pattern, escape="\\")))
    return query.order_by(Order.created_at.desc(), Order.id.desc())


def orders_to_act_on(org_id: int, *, now: datetime | None = None) -> list[Order]:
    """Confirmed and in-production orders, and drafts older than a day: oldest first."""
    now = now or utcnow()
    query = (select(Order).options(selectinload(Order.lines)).where(Order.organisation_id == org_id, or_(
        Order.status.in_([OrderStatus.CONFIRMED, OrderStatus.IN_PRODUCTION]),
        and_(Order.status == OrderStatus.DRAFT, Order.created_at < now - timedelta(days=1))))
        .order_by(Order.created_at, Order.id))
    return list(db.session.scalars(query))


def open_counts(org_id: int) -> dict[OrderStatus, int]:
    """How many orders are in each open status (zero included)."""
    rows = db.session.execute(select(Order.status, func.count()).where(
        Order.organisation_id == org_id, Order.status.in_(list(OPEN))).group_by(Order.status))
    counts = dict.fromkeys(sorted(OPEN, key=list(OrderStatus).index), 0)
    counts.update({status: n for status, n in rows})
    return counts


def item_search(org_id: int, q: str, *, limit: int = 15, priced: bool = True) -> list[Item]:
    """Items for the order line picker: SKU or title match, priced (sellable) ones or only the unpriced ones."""
    query = select(Item).where(Item.organisation_id == org_id, Item.discontinued.is_(False),
                               Item.price.is_not(None) if priced else Item.price.is_(None))
    text = (q or "").strip()
    if text:
        pattern = _like(text)
        query = query.where(or_(func.lower(Item.sku).like(pattern, escape="\\"),
                                func.lower(Item.title).like(pattern, escape="\\")))
    return list(db.session.scalars(query.order_by(Item.sku).limit(limit)))


def charm_choices(org_id: int, *, limit: int = 300) -> list[Item]:
    """Items offered as charms: those in a category whose path mentions charms, else any sellable item."""
    base = select(Item).where(Item.organisation_id == org_id, Item.discontinued.is_(False),
                              Item.price.is_not(None)).order_by(Item.title).limit(limit)
    charms = list(db.session.scalars(base.join(Category, Item.category_id == Category.id)
                                     .where(func.lower(Category.path).like("%charm%"))))
    return charms or list(db.session.scalars(base))


def designs_for(org_id: int) -> list[Design]:
    return list(db.session.scalars(select(Design).where(Design.organisation_id == org_id).order_by(Design.name)))


def customers_for(org_id: int, *, limit: int = 500) -> list[Customer]:
    return list(db.session.scalars(select(Customer).where(Customer.organisation_id == org_id)
                                   .order_by(Customer.name).limit(limit)))


def items_by_id(org_id: int, ids) -> dict[int, Item]:
    ids = {int(i) for i in ids}
    if not ids:
        return {}
    return {i.id: i for i in db.session.scalars(select(Item).where(Item.organisation_id == org_id,
                                                                   Item.id.in_(ids)))}


def past_sales(org_id: int, *, item_id: int | None = None, sku: str | None = None) -> list[dict]:
    """Units sold in confirmed-or-later orders (not cancelled or refunded), oldest first.

    Each row: date, unit_price (Decimal), currency, quantity, order_number, component. A charm sold
    inside a customised line appears as its own row with its own price and component=True.
    """
    query = (select(OrderItem, Order.number, Order.currency, Order.confirmed_at, Order.created_at)
             .join(Order, OrderItem.order_id == Order.id)
             .where(Order.organisation_id == org_id, Order.status.in_(list(SOLD)))
             .order_by(Order.confirmed_at, Order.id, OrderItem.id))
    wanted_sku = sku.strip().lower() if sku else None
    rows: list[dict] = []
    for line, number, currency, confirmed_at, created_at in db.session.execute(query):
        when = (confirmed_at or created_at).date()
        base = {"date": when, "currency": currency, "quantity": line.quantity, "order_number": number}
        if _matches(line.item_id, line.sku, item_id, wanted_sku):
            rows.append({**base, "item_id": line.item_id, "sku": line.sku, "unit_price": _item_price(line),
                         "component": False})
        for charm in line.charms:
            if _matches(int(charm["item_id"]), charm["sku"], item_id, wanted_sku):
                rows.append({**base, "item_id": int(charm["item_id"]), "sku": charm["sku"],
                             "unit_price": Decimal(charm["unit_price"]), "component": True})
    return rows


def _matches(line_item_id: int, line_sku: str, item_id: int | None, sku: str | None) -> bool:
    if item_id is not None and line_item_id != item_id:
        return False
    return not (sku is not None and line_sku.lower() != sku)


def _item_price(line: OrderItem) -> Decimal:
    """The line's own item price: the unit price less the charms priced into it."""
    return line.unit_price - sum((Decimal(c["unit_price"]) for c in line.charms), Decimal("0"))


@dataclass
class LineToAct:
    """One order line waiting for work, with its order (for the "to act on today" list)."""

    line: OrderItem
    order: Order

    @property
    def overdue(self) -> bool:
        return self.order.due_date is not None and self.order.due_date < utcnow().date()


def lines_to_act_on(org_id: int, *, limit: int = 300, offset: int = 0) -> list[LineToAct]:
    """Lines of confirmed, in-production and partly shipped orders not packed or not fully shipped:
    the earliest due date first, orders without one after them, then oldest first."""
    query = (select(OrderItem, Order).join(Order, OrderItem.order_id == Order.id)
             .where(*_waiting_lines(org_id))
             .options(load_only(OrderItem.id, OrderItem.order_id, OrderItem.sku, OrderItem.title, OrderItem.quantity,
                                OrderItem.shipped_quantity, OrderItem.production_status, OrderItem.customisation),
                      load_only(Order.id, Order.number, Order.status, Order.due_date, Order.created_at,
                                Order.customer_name))
             .order_by(Order.due_date.is_(None), Order.due_date, Order.created_at, Order.id, OrderItem.id)
             .limit(limit).offset(offset))
    return [LineToAct(line, order) for line, order in db.session.execute(query)]


def lines_to_act_on_page(org_id: int, page, per_page: int = 50) -> Page:
    """One page of `lines_to_act_on`, with how many lines wait in all."""
    try:
        page = max(1, int(page))
    except (TypeError, ValueError):
        page = 1
    total = db.session.scalar(select(func.count()).select_from(OrderItem).join(Order, OrderItem.order_id == Order.id)
                              .where(*_waiting_lines(org_id))) or 0  # count(*): PostgreSQL reads the index only
    return Page(lines_to_act_on(org_id, limit=per_page, offset=(page - 1) * per_page), page, per_page, total)


def _waiting_lines(org_id: int) -> tuple:
    return (Order.organisation_id == org_id, Order.status.in_(list(IN_WORK)),
            OrderItem.shipped_quantity < OrderItem.quantity)


def drafts_waiting(org_id: int, *, now: datetime | None = None, limit: int = 100) -> list[Order]:
    """Drafts older than a day (someone should confirm or cancel them), oldest first."""
    now = now or utcnow()
    return list(db.session.scalars(select(Order).where(
        Order.organisation_id == org_id, Order.status == OrderStatus.DRAFT,
        Order.created_at < now - timedelta(days=1)).order_by(Order.created_at, Order.id).limit(limit)))


def shipment_of(order: Order, number: int):
    """The order's shipment with this number, or None."""
    return next((s for s in order.shipments if s.number == number), None)


def visible_designs(org_id: int, user) -> list[Design]:
    """Public designs of the organisation and the person's own private ones, by name."""
    return list(db.session.scalars(select(Design).where(
        Design.organisation_id == org_id, or_(Design.public.is_(True), Design.owner_id == user.id))
        .order_by(Design.name).limit(500)))

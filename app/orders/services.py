"""Order writes: create, change status (with the stock that goes with it), totals, notes, due dates.

Every function validates first, writes in one transaction, commits once, and records the change
through the one order event stream (app.orders.timeline): timeline, live pages, webhooks.
Lines, designs, production, shipments, amendments, payments and reservations have their own
modules; the parsers live in app.orders.lines (re-exported here for older callers).
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update

from app.core import audit
from app.core.errors import Conflict, DomainError, InvalidInput, NotFound
from app.core.models import User, user_id_of, utcnow
from app.core.users import EMAIL_RE
from app.extensions import db
from app.inventory import stock as inventory_stock
from app.inventory.holds import reservation_hours
from app.orders.lines import (  # noqa: F401 - re-exported for older callers
    CENT,
    MAX_CHARMS,
    MAX_ENGRAVING,
    MAX_QUANTITY,
    build_lines,
    compute_totals,
    item_ids,
    load_items,
    parse_decimal,
    parse_options,
    parse_quantity,
    stock_lines,
    to_int,
)
from app.orders.models import Customer, Order
from app.orders.numbering import next_order_number
from app.orders.statuses import ACTIONS, TRANSITIONS, OrderStatus, PaymentStatus, stock_operation
from app.orders.timeline import EVENT, order_event

MAX_TAX_RATE, MAX_SHIPPING = Decimal("100"), Decimal("1000000")
__all__ = ["EVENT", "order_create", "order_transition", "order_confirm", "order_cancel", "order_update_totals",
           "order_add_note", "order_set_due_date", "parse_due_date", "design_line"]

# --- customers ----------------------------------------------------------------------------------

CUSTOMER_FIELDS = ("name", "email", "phone", "shipping_address", "billing_address")


def _clean_customer(raw: dict) -> dict:
    data = {k: str(raw.get(k) or "").strip() for k in CUSTOMER_FIELDS}
    data["email"] = data["email"].lower()
    if data["email"] and not EMAIL_RE.fullmatch(data["email"]):
        raise InvalidInput("Enter a valid e-mail address for the customer.", field="customer_email")
    if len(data["name"]) > 200 or len(data["phone"]) > 40 or len(data["email"]) > 254:
        raise InvalidInput("The customer's name, e-mail or phone is too long.", field="customer_name")
    return data


def _resolve_customer(org_id: int, raw: dict) -> tuple[Customer | None, dict]:
    """A saved customer (given, found by e-mail, or created when asked to save) and the order's copy."""
    data = _clean_customer(raw)
    customer = None
    if raw.get("id"):
        try:
            customer = db.session.get(Customer, int(raw["id"]))
        except (TypeError, ValueError):
            customer = None
        if customer is None or customer.organisation_id != org_id:
            raise InvalidInput("Unknown customer.", field="customer_id")
        data = {k: data[k] or getattr(customer, k) for k in CUSTOMER_FIELDS}
    if not data["name"]:
        raise InvalidInput("Enter the customer's name.", field="customer_name")
    if customer is None and raw.get("save"):
        if data["email"]:
            customer = db.session.scalar(select(Customer).where(
                Customer.organisation_id == org_id, func.lower(Customer.email) == data["email"]))
        if customer is None:
            customer = Customer(organisation_id=org_id, **data)
            db.session.add(customer)
    return customer, data


# --- order creation -----------------------------------------------------------------------------

def parse_due_date(value) -> date | None:
    """A due date from a date or YYYY-MM-DD text (empty: none)."""
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput("Enter the due date as YYYY-MM-DD.", field="due_date") from None


def order_create(*, org_id: int, customer: dict, lines: list[dict], by: User | None,
                 source: str = "manual", notes: str = "", tax_rate=None, shipping=None, due_date=None,
                 event_data: dict | None = None) -> Order:
    """Create a draft order (stock is reserved only when it is confirmed); fires `order.created`.

    `due_date` is when the customer wants it (a date or YYYY-MM-DD); `event_data` is added to the
    `order.created` webhook (e.g. {"message_id": 12} for an order read from a message)."""
    tax_rate = parse_decimal(tax_rate, field="tax_rate", label="The tax rate (%)", high=MAX_TAX_RATE)
    shipping = parse_decimal(shipping, field="shipping", label="Shipping", high=MAX_SHIPPING)
    due = parse_due_date(due_date)
    try:
        built = build_lines(org_id, lines)
        saved_customer, data = _resolve_customer(org_id, customer)
        order = Order(organisation_id=org_id, number=next_order_number(org_id), status=OrderStatus.DRAFT,
                      source=(source or "manual")[:20], customer=saved_customer, customer_name=data["name"],
                      customer_email=data["email"], customer_phone=data["phone"],
                      shipping_address=data["shipping_address"], billing_address=data["billing_address"],
                      currency=load_items(org_id, [built[0].item_id])[built[0].item_id].currency,
                      tax_rate=tax_rate, shipping=shipping, notes=(notes or "").strip(), due_date=due,
                      created_by_id=user_id_of(by), lines=built, payment_status=PaymentStatus.UNPAID, revision=0)
        compute_totals(order)
        db.session.add(order)
        db.session.flush()
        order_event(order, kind="created", to_status=OrderStatus.DRAFT, by=by, webhook="order.created",
                    note=f"Created ({order.source}) with {len(built)} line{'s' if len(built) != 1 else ''}.",
                    data=dict(event_data or {}))
        audit.record(org_id=org_id, actor_id=user_id_of(by), action="order.create", object_type="order",
                     object_id=order.id, after={"number": order.number, "total": str(order.total),
                                                "currency": order.currency, "source": order.source})
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return order


def load_order(org_id: int, order_id: int) -> Order:
    """The organisation's order, or NotFound."""
    order = db.session.get(Order, order_id)
    if order is None or order.organisation_id != org_id:
        raise NotFound("No such order in your organisation.")
    return order


_load = load_order


def move_status(order: Order, before: OrderStatus, target: OrderStatus, **values) -> None:
    """Change the status with an UPDATE guarded by the status read (a concurrent change matches nothing)."""
    OrderStatus.check(before, target)
    moved = db.session.execute(update(Order).where(Order.id == order.id, Order.status == before)
                               .values(status=target, updated_at=utcnow(), revision=Order.revision + 1, **values)
                               .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise Conflict(f"Order {order.number} changed meanwhile; reload the page and try again.")
    db.session.expire(order, ["status", "updated_at", "revision", *values])


# --- the status flow ----------------------------------------------------------------------------

STOCK_CALLS = {"reserve": "stock_reserve", "release": "stock_release", "ship": "stock_ship", "return": "stock_return"}
STOCK_PART = {"reserve": "all", "release": "unshipped", "ship": "unshipped", "return": "shipped"}
WEBHOOKS = {"confirm": "order.confirmed", "cancel": "order.cancelled", "refund": "order.refunded",
            "deliver": "order.delivered"}


def _status_values(order: Order, target: OrderStatus) -> dict:
    values: dict = {}
    if target == OrderStatus.CONFIRMED:
        values["confirmed_at"] = utcnow()
        hours = reservation_hours(order.organisation_id)
        if hours and order.payment_status == PaymentStatus.UNPAID:
            values["reserved_until"] = utcnow() + timedelta(hours=hours)
        values["notice"] = ""
    elif target in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
        values["reserved_until"] = None
        if target == OrderStatus.REFUNDED and order.payment_status == PaymentStatus.PAID:
            values["payment_status"] = PaymentStatus.REFUNDED
    return values


def order_transition(*, org_id: int, order_id: int, action: str, by: User | None, note: str = "",
                     restock: bool = True) -> Order:
    """Move an order along the status table, doing the stock work of the move in the same transaction."""
    if action not in ACTIONS:
        raise InvalidInput(f"Unknown order action {action!r}.")
    if action == "ship":  # ship everything not shipped yet, as one shipment
        from app.orders.shipments import shipment_ship_rest

        return shipment_ship_rest(org_id=org_id, order_id=order_id, by=by, note=note)
    if action == "start_production":
        from app.orders.production import production_start_all

        return production_start_all(org_id=org_id, order_id=order_id, by=by)
    try:
        order = load_order(org_id, order_id)
        before = order.status
        if action not in TRANSITIONS[before]:
            raise Conflict(f"Order {order.number} is {before.label.lower()}: it cannot be "
                           f"{ACTIONS[action].label.lower()!r} now.")
        target = ACTIONS[action].target
        operation = stock_operation(before, action)
        if operation == "return" and not restock:
            operation = None
        move_status(order, before, target, **_status_values(order, target))
        if operation:
            getattr(inventory_stock, STOCK_CALLS[operation])(
                org_id=org_id, lines=stock_lines(order, STOCK_PART[operation]), reference=order.number, by=by)
        text = (note or "").strip()[:1000]
        if action == "refund":
            text = " ".join(filter(None, [text, "Items returned to stock." if restock else "Items not restocked."]))
        order_event(order, kind="status", from_status=before, to_status=target, by=by, note=text,
                    webhook=WEBHOOKS.get(action))
        audit.record(org_id=org_id, actor_id=user_id_of(by), action=f"order.{action}", object_type="order",
                     object_id=order.id, before={"status": before.value},
                     after={"status": target.value, "stock": operation})
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return order


def order_confirm(*, org_id: int, order_id: int, by: User | None) -> Order:
    """Confirm a draft: reserve every line's stock (charms included), all lines or none."""
    return order_transition(org_id=org_id, order_id=order_id, action="confirm", by=by)


def order_cancel(*, org_id: int, order_id: int, by: User | None, note: str = "") -> Order:
    """Cancel an order, releasing its reserved stock if it held any."""
    return order_transition(org_id=org_id, order_id=order_id, action="cancel", by=by, note=note)


def order_update_totals(*, org_id: int, order_id: int, tax_rate, shipping, by: User | None) -> Order:
    """Set a draft order's tax rate (%) and shipping, and recompute its totals."""
    tax_rate = parse_decimal(tax_rate, field="tax_rate", label="The tax rate (%)", high=MAX_TAX_RATE)
    shipping = parse_decimal(shipping, field="shipping", label="Shipping", high=MAX_SHIPPING)
    try:
        order = load_order(org_id, order_id)
        if order.status != OrderStatus.DRAFT:
            raise Conflict(f"Order {order.number} is {order.status.label.lower()}: only drafts can change totals.")
        before = {"tax_rate": str(order.tax_rate), "shipping": str(order.shipping), "total": str(order.total)}
        order.tax_rate, order.shipping = tax_rate, shipping
        compute_totals(order)
        order_event(order, kind="note", by=by,
                    note=f"Tax rate {tax_rate}% and shipping {shipping} {order.currency}; total {order.total}.")
        audit.record(org_id=org_id, actor_id=user_id_of(by), action="order.totals", object_type="order",
                     object_id=order.id, before=before,
                     after={"tax_rate": str(tax_rate), "shipping": str(shipping), "total": str(order.total)})
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return order


def order_add_note(*, org_id: int, order_id: int, note: str, by: User | None) -> Order:
    """Add a note to the order's timeline."""
    text = (note or "").strip()
    if not text:
        raise InvalidInput("Write a note first.", field="note")
    order = load_order(org_id, order_id)
    order_event(order, kind="note", by=by, note=text[:2000])
    db.session.commit()
    return order


def order_set_due_date(*, org_id: int, order_id: int, due_date, by: User | None) -> Order:
    """Set or clear when the customer wants the order (open orders only)."""
    due = parse_due_date(due_date)
    order = load_order(org_id, order_id)
    if order.status not in (OrderStatus.DRAFT, *ACTIVE_STATUSES):
        raise Conflict(f"Order {order.number} is {order.status.label.lower()}: its due date is history now.")
    before = order.due_date
    order.due_date = due
    order_event(order, kind="note", by=by, note=f"Due date {due.isoformat() if due else 'cleared'}"
                + (f" (was {before.isoformat()})." if before else "."))
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="order.due_date", object_type="order",
                 object_id=order.id, before={"due_date": str(before or "")}, after={"due_date": str(due or "")})
    db.session.commit()
    return order


ACTIVE_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.IN_PRODUCTION, OrderStatus.PARTLY_SHIPPED)


def design_line(design, quantity: int = 1) -> dict:
    """The order line a design stands for (as order_create takes it)."""
    from app.orders.designs import design_line as _design_line

    return _design_line(design, quantity)


from app.orders.designs import design_create, design_delete  # noqa: E402,F401 - older callers use these names

"""Order writes: create, change status (with the stock that goes with it), totals, designs.

Every function validates first, writes in one transaction, commits once, and announces the
change (`order-changed`) only after the commit.
"""
from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import func, select, update

from app.core import audit
from app.core.errors import Conflict, DomainError, InvalidInput, NotFound
from app.core.events import publish_after_commit
from app.core.models import User, user_id_of, utcnow
from app.core.users import EMAIL_RE
from app.extensions import db
from app.inventory import stock as inventory_stock
from app.inventory.models import Item
from app.orders.models import Customer, Design, Order, OrderEvent, OrderItem
from app.orders.numbering import next_order_number
from app.orders.statuses import ACTIONS, TRANSITIONS, OrderStatus, stock_operation

EVENT = "order-changed"
CENT = Decimal("0.01")
MAX_QUANTITY = 10_000
MAX_CHARMS = 20
MAX_ENGRAVING = 100


# --- small parsers (shared with designs) ------------------------------------------------------

def parse_decimal(value, *, field: str, label: str, low: Decimal = Decimal("0"),
                  high: Decimal | None = None, places: Decimal = CENT) -> Decimal:
    """A non-negative decimal from text or number, or InvalidInput naming the field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return Decimal("0").quantize(places)
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise InvalidInput(f"{label} must be a number such as 12.50.", field=field) from None
    if not number.is_finite() or number < low or (high is not None and number > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidInput(f"{label} must be {bounds}.", field=field)
    return number.quantize(places, rounding=ROUND_HALF_UP)


def parse_quantity(value, *, where: str) -> int:
    try:
        quantity = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput(f"{where}: the quantity must be a whole number.", field="lines") from None
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(f"{where}: the quantity must be between 1 and {MAX_QUANTITY}.", field="lines")
    return quantity


def _item_ids(values, *, where: str) -> list[int]:
    try:
        return [int(v) for v in values or []]
    except (TypeError, ValueError):
        raise InvalidInput(f"{where}: unknown item.", field="lines") from None


def load_items(org_id: int, ids) -> dict[int, Item]:
    """The organisation's items with these ids (others' ids are simply missing)."""
    ids = {int(i) for i in ids}
    if not ids:
        return {}
    rows = db.session.scalars(select(Item).where(Item.organisation_id == org_id, Item.id.in_(ids)))
    return {row.id: row for row in rows}


def _sellable(item: Item | None, *, where: str) -> Item:
    if item is None:
        raise InvalidInput(f"{where}: unknown item.", field="lines")
    if item.discontinued:
        raise InvalidInput(f"{where}: SKU {item.sku} is discontinued.", field="lines")
    if item.price is None or not item.currency:
        raise InvalidInput(f"{where}: SKU {item.sku} has no price; set its price and currency in inventory first.",
                           field="lines")
    return item


def parse_options(raw: dict, *, where: str) -> dict:
    """Chain length (cm) and engraving text, cleaned; empty values left out."""
    options: dict = {}
    length = raw.get("chain_length_cm")
    if length not in (None, ""):
        cm = parse_decimal(length, field="lines", label=f"{where}: the chain length", low=Decimal("1"),
                           high=Decimal("300"), places=Decimal("0.1"))
        options["chain_length_cm"] = str(cm.normalize() if cm == cm.to_integral() else cm)
    engraving = " ".join(str(raw.get("engraving") or "").split())
    if len(engraving) > MAX_ENGRAVING:
        raise InvalidInput(f"{where}: the engraving is limited to {MAX_ENGRAVING} characters.", field="lines")
    if engraving:
        options["engraving"] = engraving
    return options


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

def _build_line(org_id: int, spec: dict, n: int, items: dict[int, Item], designs: dict[int, Design]) -> OrderItem:
    where = f"Line {n}"
    try:
        item = items.get(int(spec.get("item_id")))
    except (TypeError, ValueError):
        item = None
    item = _sellable(item, where=where)
    quantity = parse_quantity(spec.get("quantity"), where=where)
    raw = dict(spec.get("customisation") or {})
    customisation = parse_options(raw, where=where)
    charm_ids = _item_ids(raw.get("charm_ids"), where=where)
    if len(charm_ids) > MAX_CHARMS:
        raise InvalidInput(f"{where}: at most {MAX_CHARMS} charms per piece.", field="lines")
    charms = [_sellable(items.get(cid), where=f"{where}, charm") for cid in charm_ids]
    unit_price = item.price
    for charm in charms:
        if charm.currency != item.currency:
            raise InvalidInput(f"{where}: charm {charm.sku} is priced in {charm.currency}, the item in "
                               f"{item.currency}.", field="lines")
        unit_price += charm.price
    if charms:
        customisation["charms"] = [{"item_id": c.id, "sku": c.sku, "title": c.title, "unit_price": str(c.price)}
                                   for c in charms]
    design_id = spec.get("design_id")
    if design_id not in (None, ""):
        if _int(design_id) not in designs:
            raise InvalidInput(f"{where}: unknown design.", field="lines")
        design_id = _int(design_id)
    return OrderItem(organisation_id=org_id, item_id=item.id, sku=item.sku, title=item.title,
                     unit_price=unit_price, quantity=quantity, line_total=(unit_price * quantity).quantize(CENT),
                     customisation=customisation or None, design_id=design_id or None)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _build_lines(org_id: int, lines: list[dict]) -> list[OrderItem]:
    if not lines:
        raise InvalidInput("An order needs at least one line.", field="lines")
    wanted: list = []
    for spec in lines:
        wanted.append(spec.get("item_id"))
        wanted.extend((spec.get("customisation") or {}).get("charm_ids") or [])
    items = load_items(org_id, [i for i in (_int(w) for w in wanted) if i is not None])
    design_ids = {_int(s.get("design_id")) for s in lines} - {None}
    designs = {d.id: d for d in db.session.scalars(
        select(Design).where(Design.organisation_id == org_id, Design.id.in_(design_ids)))} if design_ids else {}
    built = [_build_line(org_id, spec, n, items, designs) for n, spec in enumerate(lines, start=1)]
    currencies = {items[line.item_id].currency for line in built}
    if len(currencies) > 1:
        raise InvalidInput(f"All lines of an order must be in one currency (found {', '.join(sorted(currencies))}).",
                           field="lines")
    return built


def _totals(order: Order) -> None:
    order.subtotal = sum((line.line_total for line in order.lines), Decimal("0.00"))
    order.tax = (order.subtotal * order.tax_rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    order.total = order.subtotal + order.tax + order.shipping


def order_create(*, org_id: int, customer: dict, lines: list[dict], by: User | None,
                 source: str = "manual", notes: str = "", tax_rate=None, shipping=None) -> Order:
    """Create a draft order (stock is reserved only when it is confirmed)."""
    tax_rate = parse_decimal(tax_rate, field="tax_rate", label="The tax rate (%)", high=Decimal("100"))
    shipping = parse_decimal(shipping, field="shipping", label="Shipping", high=Decimal("1000000"))
    try:
        built = _build_lines(org_id, lines)
        saved_customer, data = _resolve_customer(org_id, customer)
        order = Order(organisation_id=org_id, number=next_order_number(org_id), status=OrderStatus.DRAFT,
                      source=(source or "manual")[:20], customer=saved_customer, customer_name=data["name"],
                      customer_email=data["email"], customer_phone=data["phone"],
                      shipping_address=data["shipping_address"], billing_address=data["billing_address"],
                      currency=db.session.get(Item, built[0].item_id).currency, tax_rate=tax_rate,
                      shipping=shipping, notes=(notes or "").strip(), created_by_id=user_id_of(by), lines=built)
        _totals(order)
        db.session.add(order)
        db.session.flush()
        _event(order, kind="created", to_status=OrderStatus.DRAFT, by=by,
               note=f"Created ({order.source}) with {len(built)} line{'s' if len(built) != 1 else ''}.")
        audit.record(org_id=org_id, actor_id=user_id_of(by), action="order.create", object_type="order",
                     object_id=order.id, after={"number": order.number, "total": str(order.total),
                                                "currency": order.currency, "source": order.source})
    except DomainError:
        db.session.rollback()
        raise
    publish_after_commit(org_id, EVENT, {"order_id": order.id})
    db.session.commit()
    return order


def _event(order: Order, *, kind: str, by: User | None, to_status=None, from_status=None,
           note: str = "") -> None:
    db.session.add(OrderEvent(organisation_id=order.organisation_id, order_id=order.id, kind=kind,
                              from_status=from_status.value if from_status else None,
                              to_status=to_status.value if to_status else None, actor_id=user_id_of(by), note=note))


def _load(org_id: int, order_id: int) -> Order:
    order = db.session.get(Order, order_id)
    if order is None or order.organisation_id != org_id:
        raise NotFound("No such order in your organisation.")
    return order


# --- the status flow ----------------------------------------------------------------------------

def stock_lines(order: Order) -> list[tuple[int, int]]:
    """(item id, units) the order needs: each line's item and every charm in it, summed, in id order."""
    units: Counter[int] = Counter()
    for line in order.lines:
        units[line.item_id] += line.quantity
        for charm in line.charms:
            units[int(charm["item_id"])] += line.quantity
    return sorted(units.items())


STOCK_CALLS = {"reserve": "stock_reserve", "release": "stock_release", "ship": "stock_ship", "return": "stock_return"}


def order_transition(*, org_id: int, order_id: int, action: str, by: User | None, note: str = "",
                     restock: bool = True) -> Order:
    """Move an order along the status table, doing the stock work of the move in the same transaction."""
    if action not in ACTIONS:
        raise InvalidInput(f"Unknown order action {action!r}.")
    try:
        order = _load(org_id, order_id)
        before = order.status
        if action not in TRANSITIONS[before]:
            raise Conflict(f"Order {order.number} is {before.label.lower()}: it cannot be "
                           f"{ACTIONS[action].label.lower()!r} now.")
        target = ACTIONS[action].target
        values = {"status": target, "updated_at": utcnow()}
        if target == OrderStatus.CONFIRMED:
            values["confirmed_at"] = utcnow()
        # Guarded by the status we read: a concurrent change makes this match nothing.
        moved = db.session.execute(update(Order).where(Order.id == order.id, Order.status == before)
                                   .values(**values).execution_options(synchronize_session=False)).rowcount
        if moved != 1:
            raise Conflict(f"Order {order.number} changed meanwhile; reload the page and try again.")
        operation = stock_operation(before, action)
        if operation == "return" and not restock:
            operation = None
        if operation:
            getattr(inventory_stock, STOCK_CALLS[operation])(org_id=org_id, lines=stock_lines(order),
                                                             reference=order.number, by=by)
        db.session.expire(order, ["status", "updated_at", "confirmed_at"])
        text = (note or "").strip()[:1000]
        if action == "refund":
            text = " ".join(filter(None, [text, "Items returned to stock." if restock else "Items not restocked."]))
        _event(order, kind="status", from_status=before, to_status=target, by=by, note=text)
        audit.record(org_id=org_id, actor_id=user_id_of(by), action=f"order.{action}", object_type="order",
                     object_id=order.id, before={"status": before.value},
                     after={"status": target.value, "stock": operation})
    except DomainError:
        db.session.rollback()
        raise
    publish_after_commit(org_id, EVENT, {"order_id": order.id})
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
    tax_rate = parse_decimal(tax_rate, field="tax_rate", label="The tax rate (%)", high=Decimal("100"))
    shipping = parse_decimal(shipping, field="shipping", label="Shipping", high=Decimal("1000000"))
    try:
        order = _load(org_id, order_id)
        if order.status != OrderStatus.DRAFT:
            raise Conflict(f"Order {order.number} is {order.status.label.lower()}: only drafts can change totals.")
        before = {"tax_rate": str(order.tax_rate), "shipping": str(order.shipping), "total": str(order.total)}
        order.tax_rate, order.shipping = tax_rate, shipping
        _totals(order)
        _event(order, kind="note", by=by,
               note=f"Tax rate {tax_rate}% and shipping {shipping} {order.currency}; total {order.total}.")
        audit.record(org_id=org_id, actor_id=user_id_of(by), action="order.totals", object_type="order",
                     object_id=order.id, before=before,
                     after={"tax_rate": str(tax_rate), "shipping": str(shipping), "total": str(order.total)})
    except DomainError:
        db.session.rollback()
        raise
    publish_after_commit(org_id, EVENT, {"order_id": order.id})
    db.session.commit()
    return order


def order_add_note(*, org_id: int, order_id: int, note: str, by: User | None) -> Order:
    """Add a note to the order's timeline."""
    text = (note or "").strip()
    if not text:
        raise InvalidInput("Write a note first.", field="note")
    order = _load(org_id, order_id)
    _event(order, kind="note", by=by, note=text[:2000])
    publish_after_commit(org_id, EVENT, {"order_id": order.id})
    db.session.commit()
    return order


# --- designs ------------------------------------------------------------------------------------

def design_create(*, org_id: int, name: str, product_item_id, component_item_ids, options: dict,
                  by: User | None, notes: str = "") -> Design:
    """Save a reusable customisation: a product item, component items (charms) and options."""
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise InvalidInput("Give the design a name (up to 120 characters).", field="name")
    if db.session.scalar(select(Design.id).where(Design.organisation_id == org_id, Design.name == name)):
        raise Conflict(f"A design called {name!r} already exists.", field="name")
    components = _item_ids(component_item_ids, where="Components")
    if len(components) > MAX_CHARMS:
        raise InvalidInput(f"At most {MAX_CHARMS} components per design.", field="component_item_ids")
    product_id = _int(product_item_id)
    items = load_items(org_id, [*components, *([product_id] if product_id else [])])
    if product_id is None or product_id not in items:
        raise InvalidInput("Choose the product item the design starts from.", field="product_item_id")
    if any(c not in items for c in components):
        raise InvalidInput("One of the components is not an item of your inventory.", field="component_item_ids")
    clean = parse_options(options or {}, where="Design")
    design = Design(organisation_id=org_id, name=name, product_item_id=product_id, component_item_ids=components,
                    options=clean, notes=(notes or "").strip(), created_by_id=user_id_of(by))
    db.session.add(design)
    db.session.flush()
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="design.create", object_type="design",
                 object_id=design.id, after={"name": name, "product_item_id": product_id, "components": components,
                                             "options": clean})
    db.session.commit()
    return design


def design_delete(*, org_id: int, design_id: int, by: User | None) -> None:
    """Delete a saved design (orders made from it keep their own copy of the customisation)."""
    design = db.session.get(Design, design_id)
    if design is None or design.organisation_id != org_id:
        raise NotFound("No such design in your organisation.")
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="design.delete", object_type="design",
                 object_id=design.id, before={"name": design.name})
    db.session.execute(update(OrderItem).where(OrderItem.design_id == design.id).values(design_id=None))
    db.session.delete(design)
    db.session.commit()


def design_line(design: Design, quantity: int = 1) -> dict:
    """The order line a design stands for (as order_create takes it)."""
    options = design.options or {}
    return {"item_id": design.product_item_id, "quantity": quantity, "design_id": design.id,
            "customisation": {"chain_length_cm": options.get("chain_length_cm"),
                              "engraving": options.get("engraving"),
                              "charm_ids": list(design.component_item_ids or [])}}

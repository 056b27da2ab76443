"""Order lines from what a person typed: parsing, prices with charms, totals, and the stock a line takes.

Used by order creation, draft edits and amendments alike, so a line is read the same way everywhere.
"""
from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import select

from app.core.errors import InvalidInput
from app.extensions import db
from app.inventory.models import Item
from app.orders.models import Design, Order, OrderItem

CENT = Decimal("0.01")
MAX_QUANTITY = 10_000
MAX_CHARMS = 20
MAX_ENGRAVING = 100
MAX_LINES = 200


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


def parse_quantity(value, *, where: str, low: int = 1) -> int:
    """A whole number of pieces from 1 (or `low`) to MAX_QUANTITY."""
    try:
        quantity = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput(f"{where}: the quantity must be a whole number.", field="lines") from None
    if not low <= quantity <= MAX_QUANTITY:
        raise InvalidInput(f"{where}: the quantity must be between {low} and {MAX_QUANTITY}.", field="lines")
    return quantity


def item_ids(values, *, where: str) -> list[int]:
    try:
        return [int(v) for v in values or []]
    except (TypeError, ValueError):
        raise InvalidInput(f"{where}: unknown item.", field="lines") from None


def to_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


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


def _charms(raw: dict, item: Item, items: dict[int, Item], where: str) -> tuple[list[Item], Decimal]:
    charm_ids = item_ids(raw.get("charm_ids"), where=where)
    if len(charm_ids) > MAX_CHARMS:
        raise InvalidInput(f"{where}: at most {MAX_CHARMS} charms per piece.", field="lines")
    charms = [_sellable(items.get(cid), where=f"{where}, charm") for cid in charm_ids]
    unit_price = item.price
    for charm in charms:
        if charm.currency != item.currency:
            raise InvalidInput(f"{where}: charm {charm.sku} is priced in {charm.currency}, the item in "
                               f"{item.currency}.", field="lines")
        unit_price += charm.price
    return charms, unit_price


def build_line(org_id: int, spec: dict, n: int, items: dict[int, Item], designs: dict[int, Design]) -> OrderItem:
    """One new line (not added to a session) from its spec, or InvalidInput naming the line."""
    where = f"Line {n}"
    item = _sellable(items.get(to_int(spec.get("item_id"))), where=where)
    quantity = parse_quantity(spec.get("quantity"), where=where)
    raw = dict(spec.get("customisation") or {})
    customisation = parse_options(raw, where=where)
    charms, unit_price = _charms(raw, item, items, where)
    if charms:
        customisation["charms"] = [{"item_id": c.id, "sku": c.sku, "title": c.title, "unit_price": str(c.price)}
                                   for c in charms]
    design_id = spec.get("design_id")
    if design_id not in (None, ""):
        if to_int(design_id) not in designs:
            raise InvalidInput(f"{where}: unknown design.", field="lines")
        design_id = to_int(design_id)
    return OrderItem(organisation_id=org_id, item_id=item.id, sku=item.sku, title=item.title,
                     unit_price=unit_price, quantity=quantity, line_total=(unit_price * quantity).quantize(CENT),
                     customisation=customisation or None, design_id=design_id or None)


def build_lines(org_id: int, lines: list[dict], *, currency: str | None = None) -> list[OrderItem]:
    """Every line of a spec list, all in one currency (the order's, when given)."""
    if not lines:
        raise InvalidInput("An order needs at least one line.", field="lines")
    if len(lines) > MAX_LINES:
        raise InvalidInput(f"An order has at most {MAX_LINES} lines.", field="lines")
    wanted: list = []
    for spec in lines:
        wanted.append(spec.get("item_id"))
        wanted.extend((spec.get("customisation") or {}).get("charm_ids") or [])
    items = load_items(org_id, [i for i in (to_int(w) for w in wanted) if i is not None])
    design_ids = {to_int(s.get("design_id")) for s in lines} - {None}
    designs = {d.id: d for d in db.session.scalars(
        select(Design).where(Design.organisation_id == org_id, Design.id.in_(design_ids)))} if design_ids else {}
    built = [build_line(org_id, spec, n, items, designs) for n, spec in enumerate(lines, start=1)]
    currencies = {items[line.item_id].currency for line in built} | ({currency} if currency else set())
    if len(currencies) > 1:
        raise InvalidInput(f"All lines of an order must be in one currency (found {', '.join(sorted(currencies))}).",
                           field="lines")
    return built


def compute_totals(order: Order) -> None:
    """Subtotal from the lines, tax at the order's rate, shipping added untaxed."""
    order.subtotal = sum((line.line_total for line in order.lines), Decimal("0.00"))
    order.tax = (order.subtotal * order.tax_rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    order.total = order.subtotal + order.tax + order.shipping


def stock_lines(order: Order, part: str = "all") -> list[tuple[int, int]]:
    """(item id, units) the order's lines take — all, the unshipped part or the shipped part — with charms."""
    units: Counter[int] = Counter()
    for line in order.lines:
        quantity = {"all": line.quantity, "unshipped": line.to_ship, "shipped": line.shipped_quantity}[part]
        if quantity:
            for item_id, n in line.stock_units(quantity):
                units[item_id] += n
    return sorted(units.items())


def line_snapshot(line: OrderItem) -> dict:
    """A line as an amendment records it."""
    return {"line_id": line.id, "sku": line.sku, "quantity": line.quantity, "shipped": line.shipped_quantity,
            "unit_price": str(line.unit_price), "customisation": line.customisation}

"""Items and categories: create, edit, discontinue (stock numbers change only in stock.py)."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core import audit
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.events import publish_after_commit
from app.core.models import User, user_id_of
from app.core.tenancy import get_scoped
from app.extensions import db
from app.inventory.category_rules import PATH_SEPARATOR, normalize_path
from app.inventory.models import Category, Item, MovementKind, StockMovement
from app.inventory.stock import EVENT

SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
GTIN_RE = re.compile(r"^(\d{8}|\d{12}|\d{13}|\d{14})$")


def search_text_for(sku: str, title: str, attributes: dict | None) -> str:
    """What the list's search box looks in: SKU, title, attribute names and values, lower-cased."""
    parts = [sku, title, *(f"{k} {v}" for k, v in (attributes or {}).items())]
    return " ".join(str(p) for p in parts if p).casefold()[:1000]  # indexed: keep entries small


def category_ensure(*, org_id: int, path: str) -> Category:
    """The category with this path, created with its parents when missing (does not commit)."""
    try:
        path = normalize_path(path)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="category_path") from None
    parent: Category | None = None
    names = path.split(PATH_SEPARATOR)
    for depth in range(1, len(names) + 1):
        sub = PATH_SEPARATOR.join(names[:depth])
        node = db.session.scalar(select(Category).where(Category.organisation_id == org_id, Category.path == sub))
        if node is None:
            node = Category(organisation_id=org_id, parent_id=parent.id if parent else None,
                            name=names[depth - 1], path=sub)
            db.session.add(node)
            db.session.flush()
        parent = node
    return parent


def categories_all(org_id: int) -> list[Category]:
    return list(db.session.scalars(select(Category).where(Category.organisation_id == org_id)
                                   .order_by(Category.path)))


def _money(value, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip()).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise InvalidInput(f"{value!r} is not an amount; write it like 12.50.", field=field) from None
    if amount < 0 or amount >= Decimal("1e10"):
        raise InvalidInput("Amounts must be between 0 and 9,999,999,999.99.", field=field)
    return amount


def _clean(*, sku: str, title: str, currency: str | None, gtin: str | None, reorder_point: int) -> dict:
    sku, title = (sku or "").strip(), re.sub(r"\s+", " ", title or "").strip()
    if not SKU_RE.match(sku):
        raise InvalidInput("A SKU is 1-64 letters, digits, '.', '_', '/' or '-', starting with a letter or digit.",
                           field="sku")
    if not title or len(title) > 300:
        raise InvalidInput("Give the item a title (at most 300 characters).", field="title")
    currency = (currency or "").strip().upper() or None
    if currency and not CURRENCY_RE.match(currency):
        raise InvalidInput(f"{currency!r} is not a three-letter currency code such as USD.", field="currency")
    gtin = re.sub(r"[\s-]", "", gtin or "") or None
    if gtin and not GTIN_RE.match(gtin):
        raise InvalidInput("A GTIN/EAN has 8, 12, 13 or 14 digits.", field="gtin")
    if isinstance(reorder_point, bool) or not isinstance(reorder_point, int) or reorder_point < 0:
        raise InvalidInput("The reorder point is a whole number, 0 or more.", field="reorder_point")
    return {"sku": sku, "title": title, "currency": currency, "gtin": gtin, "reorder_point": reorder_point}


def item_build(*, org_id: int, sku: str, title: str, category_path: str | None = None,
               attributes: dict | None = None, gtin: str | None = None, brand: str | None = None,
               model: str | None = None, unit_cost=None, price=None, currency: str | None = None,
               supplier: str | None = None, supplier_product_id: str | None = None,
               supplier_sku_id: str | None = None, image: str | None = None, reorder_point: int = 0) -> Item:
    """Validate and add a new item with nothing on hand (does not commit)."""
    values = _clean(sku=sku, title=title, currency=currency, gtin=gtin, reorder_point=reorder_point)
    if db.session.scalar(select(Item.id).where(Item.organisation_id == org_id, Item.sku == values["sku"])):
        raise Conflict(f"SKU {values['sku']} is already used by another item.", field="sku")
    cost, sale = _money(unit_cost, "unit_cost"), _money(price, "price")
    if (cost is not None or sale is not None) and not values["currency"]:
        raise InvalidInput("Give the currency of the cost and price.", field="currency")
    category = category_ensure(org_id=org_id, path=category_path) if category_path else None
    item = Item(organisation_id=org_id, category_id=category.id if category else None,
                attributes=dict(attributes or {}), brand=(brand or "").strip() or None,
                model=(model or "").strip() or None, unit_cost=cost, price=sale, supplier=supplier,
                supplier_product_id=supplier_product_id, supplier_sku_id=supplier_sku_id, image=image,
                on_hand=0, reserved=0, **values)
    item.search_text = search_text_for(item.sku, item.title, item.attributes)
    db.session.add(item)
    db.session.flush()
    return item


def item_create(*, org_id: int, by: User | None, initial_stock: int = 0, **fields) -> Item:
    """Create an item; initial stock goes through the ledger as an adjustment. Commits."""
    if isinstance(initial_stock, bool) or not isinstance(initial_stock, int) or initial_stock < 0:
        raise InvalidInput("Initial stock is a whole number, 0 or more.", field="initial_stock")
    item = item_build(org_id=org_id, **fields)
    if initial_stock:
        item.on_hand = initial_stock
        db.session.add(StockMovement(organisation_id=org_id, item_id=item.id, kind=MovementKind.ADJUSTMENT,
                                     on_hand_delta=initial_stock, reserved_delta=0, reason="initial stock",
                                     user_id=user_id_of(by)))
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="inventory.create", object_type="inventory_item",
                 object_id=item.id, after={"sku": item.sku, "title": item.title, "on_hand": initial_stock})
    publish_after_commit(org_id, EVENT, {"item_ids": [item.id]})
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"SKU {fields.get('sku')} is already used by another item.", field="sku") from None
    return item


def item_update(*, org_id: int, item_id: int, by: User | None, title: str, category_path: str | None,
                reorder_point: int, price=None, currency: str | None = None, gtin: str | None = None,
                brand: str | None = None, model: str | None = None, discontinued: bool = False) -> Item:
    """Edit an item's description, price, reorder point and discontinued flag (not its stock). Commits."""
    item = get_scoped(Item, item_id, org_id)
    if item is None:
        raise NotFound("That item does not exist.")
    values = _clean(sku=item.sku, title=title, currency=currency or item.currency, gtin=gtin,
                    reorder_point=reorder_point)
    before = {"title": item.title, "reorder_point": item.reorder_point, "discontinued": item.discontinued,
              "price": str(item.price) if item.price is not None else None}
    category = category_ensure(org_id=org_id, path=category_path) if category_path else None
    item.title, item.reorder_point, item.gtin = values["title"], values["reorder_point"], values["gtin"]
    item.currency, item.price = values["currency"], _money(price, "price")
    item.brand, item.model = (brand or "").strip() or None, (model or "").strip() or None
    item.category_id = category.id if category else None
    item.discontinued = bool(discontinued)
    item.search_text = search_text_for(item.sku, item.title, item.attributes)
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="inventory.update", object_type="inventory_item",
                 object_id=item.id, before=before,
                 after={"title": item.title, "reorder_point": item.reorder_point, "discontinued": item.discontinued,
                        "price": str(item.price) if item.price is not None else None})
    publish_after_commit(org_id, EVENT, {"item_ids": [item.id]})
    db.session.commit()
    return item

"""Items, categories, the stock-movement ledger and category rules."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.enums import LabelledEnum, db_enum
from app.core.models import StoredImageColumns, User, UTCDateTime, utcnow
from app.extensions import db
from app.inventory.statuses import ItemStatus  # noqa: F401 - part of this domain's model


class MovementKind(LabelledEnum):
    IMPORT = "import"
    ADJUSTMENT = "adjustment"
    RESERVATION = "reservation"
    RELEASE = "release"
    SHIPMENT = "shipment"
    RETURN = "return"


class Category(db.Model):
    """One node of an organisation's category tree; `path` is the full name, e.g. "Chains › Bracelet Chains"."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("organisation_id", "path", name="uq_categories_organisation_id_path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    name: Mapped[str] = mapped_column(String(120))
    path: Mapped[str] = mapped_column(String(400))

    parent: Mapped[Category | None] = relationship(remote_side=[id])


class Item(db.Model):
    __tablename__ = "inventory_items"
    __table_args__ = (
        UniqueConstraint("organisation_id", "sku", name="uq_inventory_items_organisation_id_sku"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("on_hand >= reserved", name="available_not_negative"),
        CheckConstraint("reorder_point >= 0", name="reorder_point_not_negative"),
        Index("ix_inventory_items_org_title", "organisation_id", "title"),
        Index("ix_inventory_items_org_category", "organisation_id", "category_id"),
        Index("ix_inventory_items_org_supplier_ids", "organisation_id", "supplier", "supplier_product_id",
              "supplier_sku_id"),
        # Measured with 50,000 items (bench/inventory.py): a covering index makes the search's
        # count scan the index instead of the wide rows, and the expression indexes serve the
        # "sort by available" and every status / low-stock filter.
        Index("ix_inventory_items_org_search", "organisation_id", "search_text"),
        Index("ix_inventory_items_org_updated", "organisation_id", "updated_at"),
        Index("ix_inventory_items_org_available", "organisation_id", text("(on_hand - reserved)")),
        # With reserved − on_hand (status_clause's "available > 0"): a status count reads the index alone.
        Index("ix_inventory_items_org_shortfall", "organisation_id", "discontinued",
              text("(on_hand - reserved - reorder_point)"), text("(reserved - on_hand)")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    # Lower-cased title, SKU and attribute values: one column for the list's search box.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    gtin: Mapped[str | None] = mapped_column(String(14), index=True)
    brand: Mapped[str | None] = mapped_column(String(120))
    model: Mapped[str | None] = mapped_column(String(120))
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    supplier: Mapped[str | None] = mapped_column(String(40))
    supplier_product_id: Mapped[str | None] = mapped_column(String(64))
    supplier_sku_id: Mapped[str | None] = mapped_column(String(64))
    image: Mapped[str | None] = mapped_column(String(500))  # a stored file's hash or a URL
    reorder_point: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    on_hand: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reserved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    discontinued: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    category: Mapped[Category | None] = relationship()

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def status(self) -> ItemStatus:
        if self.discontinued:
            return ItemStatus.DISCONTINUED
        if self.available <= 0:
            return ItemStatus.OUT_OF_STOCK
        if self.available <= self.reorder_point:
            return ItemStatus.LOW_STOCK
        return ItemStatus.ACTIVE

    @classmethod
    def status_clause(cls, status: ItemStatus | str):
        """A WHERE clause for one derived status, written so the shortfall index serves it."""
        status = ItemStatus(status)
        if status == ItemStatus.DISCONTINUED:
            return cls.discontinued == true()
        # "Available > 0" is written as the index's own fourth expression, reserved − on_hand < 0:
        # the count of a status then reads the index alone, and the "available" index (which
        # SQLite's planner preferred for `on_hand − reserved > 0`, reading 36,000 rows of 50,000
        # for 13,600 low on stock: 40 ms against 1.7) cannot be picked for it.
        unavailable, shortfall = cls.reserved - cls.on_hand, cls.on_hand - cls.reserved - cls.reorder_point
        if status == ItemStatus.OUT_OF_STOCK:
            return and_(cls.discontinued == false(), shortfall <= 0, unavailable >= 0)
        if status == ItemStatus.LOW_STOCK:
            return and_(cls.discontinued == false(), shortfall <= 0, unavailable < 0)
        return and_(cls.discontinued == false(), shortfall > 0)

    @classmethod
    def low_stock_clause(cls):
        """Not discontinued, and at or below the reorder point (out of stock included)."""
        return and_(cls.discontinued == false(), cls.on_hand - cls.reserved - cls.reorder_point <= 0)

    @property
    def image_url(self) -> str | None:
        return self.image if self.image and self.image.startswith(("http://", "https://")) else None

    @property
    def category_path(self) -> str | None:
        return self.category.path if self.category else None


class StockMovement(db.Model):
    """One line of the ledger: on_hand and reserved of an item are the sums of its deltas."""

    __tablename__ = "stock_movements"
    __table_args__ = (Index("ix_stock_movements_item_id_id", "item_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inventory_items.id"))
    kind: Mapped[MovementKind] = mapped_column(db_enum(MovementKind, length=16))
    on_hand_delta: Mapped[int] = mapped_column(Integer, default=0)
    reserved_delta: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(500))
    reference: Mapped[str | None] = mapped_column(String(120), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[Item] = relationship()
    user: Mapped[User | None] = relationship()


class CategoryRule(db.Model):
    """An editable keyword rule: titles containing a keyword go to `path` (highest priority wins)."""

    __tablename__ = "category_rules"
    __table_args__ = (UniqueConstraint("organisation_id", "path", name="uq_category_rules_organisation_id_path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    path: Mapped[str] = mapped_column(String(400))
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def to_dict(self) -> dict:
        return {"path": self.path, "keywords": list(self.keywords or []), "priority": self.priority}


class ItemImage(StoredImageColumns, db.Model):
    """A photo of an item, checked like product photos and stored by content hash."""

    __tablename__ = "item_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inventory_items.id", ondelete="CASCADE"), index=True)


class HoldStatus(LabelledEnum):
    ACTIVE = "active"
    RELEASED = "released"
    EXPIRED = "expired"


class StockHold(db.Model):
    """Units put aside by hand (for a customer who will come back): reserved like an order's."""

    __tablename__ = "stock_holds"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),
                      Index("ix_stock_holds_status_expires_at", "status", "expires_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inventory_items.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(300), default="", server_default="")
    status: Mapped[HoldStatus] = mapped_column(db_enum(HoldStatus, length=12), default=HoldStatus.ACTIVE)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    held_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    item: Mapped[Item] = relationship()
    held_by: Mapped[User | None] = relationship()

    @property
    def reference(self) -> str:
        return f"HOLD-{self.id}"


class StockSettings(db.Model):
    """An organisation's stock settings: how long an unpaid order or a hold keeps its reservation."""

    __tablename__ = "stock_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    reservation_hours: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 0: kept until released
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PricingRule(db.Model):
    """An organisation's rule for a selling price from the unit cost: markup, price ending, minimum margin."""

    __tablename__ = "pricing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    markup_percent: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    # The cents every price ends in (0.90 gives 12.90); None rounds up to the cent only.
    price_ending: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    min_margin_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"), server_default="0")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

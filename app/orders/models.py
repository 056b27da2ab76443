"""Orders and what hangs off them: customers, lines, the timeline, saved designs, number counters."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import StoredImageColumns, User, UTCDateTime, utcnow
from app.core.statuses import status_column
from app.extensions import db
from app.inventory.models import Item
from app.orders.statuses import HOLDING_STOCK, LINE_NEXT, LineStatus, OrderStatus, PaymentStatus, allowed_actions

MONEY = Numeric(12, 2)


class Customer(db.Model):
    """A returning customer; guest orders keep the same details on the order only."""

    __tablename__ = "customers"
    __table_args__ = (Index("ix_customers_organisation_id_email", "organisation_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    shipping_address: Mapped[str] = mapped_column(Text, default="", server_default="")
    billing_address: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderSequence(db.Model):
    """The last order number handed out per organisation and year (bumped inside the creating transaction)."""

    __tablename__ = "order_sequences"
    __table_args__ = (UniqueConstraint("organisation_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    value: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("organisation_id", "number"),
        Index("ix_orders_organisation_id_status", "organisation_id", "status"),
        CheckConstraint("subtotal >= 0 AND tax >= 0 AND shipping >= 0 AND total >= 0", name="money_not_negative"),
        CheckConstraint("tax_rate >= 0 AND tax_rate <= 100", name="tax_rate_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    status: Mapped[OrderStatus] = status_column(OrderStatus, length=20, default=OrderStatus.DRAFT)
    source: Mapped[str] = mapped_column(String(20), default="manual", server_default="manual")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    customer_phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    shipping_address: Mapped[str] = mapped_column(Text, default="", server_default="")
    billing_address: Mapped[str] = mapped_column(Text, default="", server_default="")
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))  # percent
    tax: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    shipping: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    # Bumped by every change of lines, status or shipments: a change made from an older page is refused.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    payment_status: Mapped[PaymentStatus] = status_column(PaymentStatus, length=12, default=PaymentStatus.UNPAID,
                                                          server_default="unpaid")
    payment_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # An unpaid confirmed order gives its reservation back after this time (None: it keeps it).
    reserved_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    notice: Mapped[str] = mapped_column(Text, default="", server_default="")  # shown on the order page

    customer: Mapped[Customer | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    payment_by: Mapped[User | None] = relationship(foreign_keys=[payment_by_id])
    lines: Mapped[list[OrderItem]] = relationship(back_populates="order", order_by="OrderItem.id",
                                                  cascade="all, delete-orphan")
    events: Mapped[list[OrderEvent]] = relationship(back_populates="order", order_by="OrderEvent.id",
                                                    cascade="all, delete-orphan")
    shipments: Mapped[list[Shipment]] = relationship(back_populates="order", order_by="Shipment.id",
                                                     cascade="all, delete-orphan")

    @property
    def actions(self):
        return allowed_actions(self.status)

    @property
    def holds_stock(self) -> bool:
        return self.status in HOLDING_STOCK

    @property
    def units_left(self) -> int:
        return sum(line.to_ship for line in self.lines)


class OrderItem(db.Model):
    """One line: the item and its price as they were when ordered, plus the customisation."""

    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),
                      CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
                      CheckConstraint("shipped_quantity >= 0 AND shipped_quantity <= quantity",
                                      name="shipped_within_quantity"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inventory_items.id"), index=True)
    design_id: Mapped[int | None] = mapped_column(ForeignKey("designs.id", ondelete="SET NULL"))
    sku: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    unit_price: Mapped[Decimal] = mapped_column(MONEY)  # item price plus chosen charms
    quantity: Mapped[int] = mapped_column(Integer)
    line_total: Mapped[Decimal] = mapped_column(MONEY)
    # {"chain_length_cm": "45", "charms": [{"item_id", "sku", "title", "unit_price"}], "engraving": "..."}
    customisation: Mapped[dict | None] = mapped_column(JSON)
    production_status: Mapped[LineStatus] = status_column(LineStatus, length=16, default=LineStatus.WAITING,
                                                          server_default="waiting")
    production_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    production_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    shipped_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    order: Mapped[Order] = relationship(back_populates="lines")
    item: Mapped[Item] = relationship()
    production_by: Mapped[User | None] = relationship()

    @property
    def charms(self) -> list[dict]:
        return list((self.customisation or {}).get("charms") or [])

    @property
    def to_ship(self) -> int:
        return self.quantity - (self.shipped_quantity or 0)

    @property
    def next_production(self) -> LineStatus | None:
        return LINE_NEXT[self.production_status]

    def stock_units(self, quantity: int | None = None) -> list[tuple[int, int]]:
        """(item id, units) that `quantity` pieces of this line take: the item and each charm."""
        quantity = self.quantity if quantity is None else quantity
        return [(self.item_id, quantity), *((int(c["item_id"]), quantity) for c in self.charms)]


class OrderEvent(db.Model):
    """The order's timeline: creation, every status change and notes, with who and when."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    # created, status, note, edited, amended, production, shipment, payment, expired
    kind: Mapped[str] = mapped_column(String(20))
    line_id: Mapped[int | None] = mapped_column(ForeignKey("order_items.id", ondelete="SET NULL"))
    from_status: Mapped[OrderStatus | None] = status_column(OrderStatus, length=20, nullable=True)
    to_status: Mapped[OrderStatus | None] = status_column(OrderStatus, length=20, nullable=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class Design(db.Model):
    """A saved customisation: a product template item, chosen component items and options.

    Private designs are seen by their owner only; public ones by the whole organisation."""

    __tablename__ = "designs"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    product_item_id: Mapped[int] = mapped_column(ForeignKey("inventory_items.id"), index=True)
    component_item_ids: Mapped[list] = mapped_column(JSON, default=list)
    options: Mapped[dict] = mapped_column(JSON, default=dict)  # chain_length_cm, engraving
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    public: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    product: Mapped[Item] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    images: Mapped[list[DesignImage]] = relationship(order_by="DesignImage.position, DesignImage.id",
                                                     cascade="all, delete-orphan")
    versions: Mapped[list[DesignVersion]] = relationship(order_by="DesignVersion.version.desc()",
                                                         cascade="all, delete-orphan")

    def snapshot(self) -> dict:
        """What a version records: the design's content as it is now."""
        return {"name": self.name, "product_item_id": self.product_item_id,
                "component_item_ids": list(self.component_item_ids or []), "options": dict(self.options or {}),
                "notes": self.notes, "public": self.public,
                "images": [{"sha256": i.sha256, "filename": i.filename} for i in self.images]}


class DesignImage(StoredImageColumns, db.Model):
    """A picture of a design, checked like product photos and stored by content hash."""

    __tablename__ = "design_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("designs.id", ondelete="CASCADE"), index=True)


class DesignVersion(db.Model):
    """A design as it was before one edit: who changed it and when."""

    __tablename__ = "design_versions"
    __table_args__ = (UniqueConstraint("design_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("designs.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict] = mapped_column(JSON)
    change: Mapped[str] = mapped_column(String(200), default="", server_default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    by: Mapped[User | None] = relationship()


class Shipment(db.Model):
    """One parcel: some lines, or some units of lines, with the carrier and tracking number."""

    __tablename__ = "shipments"
    __table_args__ = (UniqueConstraint("order_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … within the order
    carrier: Mapped[str] = mapped_column(String(60), default="", server_default="")
    tracking_number: Mapped[str] = mapped_column(String(120), default="", server_default="")
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    shipped_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="shipments")
    shipped_by: Mapped[User | None] = relationship()
    lines: Mapped[list[ShipmentLine]] = relationship(back_populates="shipment", order_by="ShipmentLine.id",
                                                     cascade="all, delete-orphan")

    @property
    def reference(self) -> str:
        return f"{self.order.number}/S{self.number}"


class ShipmentLine(db.Model):
    __tablename__ = "shipment_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    order_item_id: Mapped[int] = mapped_column(ForeignKey("order_items.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)

    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    line: Mapped[OrderItem] = relationship()


class OrderAmendment(db.Model):
    """A change of a confirmed order's lines: what they were and became, who and when."""

    __tablename__ = "order_amendments"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    before: Mapped[dict] = mapped_column(JSON)
    after: Mapped[dict] = mapped_column(JSON)
    stock: Mapped[dict] = mapped_column(JSON)  # {"reserved": {sku: n}, "released": {sku: n}}
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    by: Mapped[User | None] = relationship()

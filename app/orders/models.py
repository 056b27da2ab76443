"""Orders and what hangs off them: customers, lines, the timeline, saved designs, number counters."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import User, UTCDateTime, utcnow
from app.core.statuses import status_column
from app.extensions import db
from app.inventory.models import Item
from app.orders.statuses import HOLDING_STOCK, OrderStatus, allowed_actions

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

    customer: Mapped[Customer | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    lines: Mapped[list[OrderItem]] = relationship(back_populates="order", order_by="OrderItem.id",
                                                  cascade="all, delete-orphan")
    events: Mapped[list[OrderEvent]] = relationship(back_populates="order", order_by="OrderEvent.id",
                                                    cascade="all, delete-orphan")

    @property
    def actions(self):
        return allowed_actions(self.status)

    @property
    def holds_stock(self) -> bool:
        return self.status in HOLDING_STOCK


class OrderItem(db.Model):
    """One line: the item and its price as they were when ordered, plus the customisation."""

    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),
                      CheckConstraint("unit_price >= 0", name="unit_price_not_negative"))

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

    order: Mapped[Order] = relationship(back_populates="lines")
    item: Mapped[Item] = relationship()

    @property
    def charms(self) -> list[dict]:
        return list((self.customisation or {}).get("charms") or [])


class OrderEvent(db.Model):
    """The order's timeline: creation, every status change and notes, with who and when."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # created, status, note
    from_status: Mapped[OrderStatus | None] = status_column(OrderStatus, length=20, nullable=True)
    to_status: Mapped[OrderStatus | None] = status_column(OrderStatus, length=20, nullable=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class Design(db.Model):
    """A saved customisation: a product template item, chosen component items and options."""

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

    product: Mapped[Item] = relationship()
    created_by: Mapped[User | None] = relationship()

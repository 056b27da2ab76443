"""Listings (built for a product by the last pipeline phase: what the exports are made from) and the
organisation's price lists (MSRP and competitor prices the market phase reads)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import User, UTCDateTime, utcnow
from app.core.statuses import status_column
from app.extensions import db
from app.listings.statuses import ListingStatus
from app.pipeline.models import Product


class Listing(db.Model):
    __tablename__ = "listings"
    __table_args__ = (
        UniqueConstraint("product_id"),
        UniqueConstraint("organisation_id", "slug"),
        CheckConstraint("price IS NULL OR price >= 0", name="price_not_negative"),
        CheckConstraint("(price IS NULL) = (currency IS NULL)", name="price_has_currency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    # {"brand": …, "model": …, "category": …, "condition": …, "gtin": …, "sku": …}: only found values.
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    image_order: Mapped[list] = mapped_column(JSON, default=list)  # ProductImage ids, primary first
    # Keywords, the title per marketplace limit, meta description, completeness (from the SEO phase).
    seo: Mapped[dict] = mapped_column(JSON, default=dict)
    # The market research behind the price: rule and sources (from the market phase).
    pricing: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[ListingStatus] = status_column(ListingStatus, length=16, default=ListingStatus.DRAFT)
    missing: Mapped[list] = mapped_column(JSON, default=list)  # why it is still a draft
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship()


class PriceList(db.Model):
    __tablename__ = "price_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped_rows: Mapped[int] = mapped_column(Integer, default=0)

    uploaded_by: Mapped[User | None] = relationship()
    entries: Mapped[list[PriceListEntry]] = relationship(back_populates="price_list", cascade="all, delete-orphan",
                                                         passive_deletes=True)


class PriceListEntry(db.Model):
    __tablename__ = "price_list_entries"
    __table_args__ = (
        CheckConstraint("kind IN ('msrp', 'competitor')", name="kind"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        Index("ix_price_list_entries_org_gtin", "organisation_id", "gtin"),
        Index("ix_price_list_entries_org_sku", "organisation_id", "sku"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    price_list_id: Mapped[int] = mapped_column(ForeignKey("price_lists.id", ondelete="CASCADE"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    gtin: Mapped[str | None] = mapped_column(String(14))
    sku: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    source: Mapped[str] = mapped_column(String(200))
    observed_on: Mapped[date | None] = mapped_column(Date)

    price_list: Mapped[PriceList] = relationship(back_populates="entries")

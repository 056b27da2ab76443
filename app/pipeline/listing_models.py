"""The listing built for a product by the last pipeline phase: what the exports are made from."""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.enums import db_enum
from app.core.models import UTCDateTime, utcnow
from app.extensions import db
from app.pipeline.models import Product


class ListingStatus(str, enum.Enum):
    DRAFT = "draft"  # something a marketplace needs is missing (see Listing.missing)
    READY = "ready"

    @property
    def label(self) -> str:
        return self.value.capitalize()


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
    status: Mapped[ListingStatus] = mapped_column(
        db_enum(ListingStatus, length=16), default=ListingStatus.DRAFT)
    missing: Mapped[list] = mapped_column(JSON, default=list)  # why it is still a draft
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship()

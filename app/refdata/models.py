"""The reference product table: one row per GTIN, shared by all organisations (no tenant column)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import UTCDateTime, utcnow
from app.extensions import db


class ReferenceProduct(db.Model):
    """What a public product database says a GTIN is; `source` names the file or the provider."""

    __tablename__ = "reference_products"

    gtin: Mapped[str] = mapped_column(String(14), primary_key=True)  # normalised (see analysis.barcodes)
    name: Mapped[str | None] = mapped_column(String(300))
    brand: Mapped[str | None] = mapped_column(String(200))
    # The first brand, case-folded: how words read on a photo are recognised as brands.
    brand_key: Mapped[str | None] = mapped_column(String(120), index=True)
    quantity: Mapped[str | None] = mapped_column(String(120))
    categories: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(200))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

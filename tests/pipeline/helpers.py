"""Shared helpers for the pipeline tests: photos, catalogue rows, test-only phase placeholders."""
from __future__ import annotations

import io
from pathlib import Path

from app.extensions import db
from app.pipeline import services
from app.pipeline.models import Product
from app.pipeline.phases import PhaseOutcome, register_phase, unregister_phase

PHOTOS = Path(__file__).resolve().parents[1] / "fixtures" / "pipeline"
EAN_PHOTO = PHOTOS / "ean13-9780140013993.webp"
EAN = "9780140013993"
BLANK_PHOTO = PHOTOS / "no-barcode-no-text.webp"
UPC_PHOTO = PHOTOS / "upca-075720003259.webp"
# A photo of a printed page of text (no barcode): what a weak fuzzy match used to rename.
TEXT_PAGE_PHOTO = PHOTOS / "printed-page.webp"


def photo(path: Path, name: str | None = None) -> tuple[str, io.BytesIO]:
    return (name or path.name, io.BytesIO(path.read_bytes()))


def create_product(org, user, *paths: Path, start: bool = True, **hints) -> Product:
    result = services.product_create(org_id=org.id, by=user, files=[photo(p) for p in paths or (BLANK_PHOTO,)],
                                     start=start, **hints)
    assert result.product is not None, result.errors
    return result.product


def catalogue_item(org, *, gtin: str = EAN, title: str = "Penguin Classics paperback", sku: str = "BOOK-1",
                   brand: str = "Penguin", category: str = "Books"):
    from app.inventory.services import item_build

    item = item_build(org_id=org.id, sku=sku, title=title, gtin=gtin, brand=brand, category_path=category)
    db.session.commit()
    return item


def reference_row(gtin: str, *, name: str, brand: str | None = None, source: str = "test-export.tsv", **extra):
    """A row of the shared reference data (as `flask refdata import` would load it)."""
    from app.core.models import utcnow
    from app.refdata.models import ReferenceProduct

    row = ReferenceProduct(gtin=gtin, name=name, brand=brand, brand_key=brand.casefold() if brand else None,
                           source=source, fetched_at=utcnow(), **extra)
    db.session.add(row)
    db.session.commit()
    return row


class Placeholder:
    """A test-only stand-in for a phase: returns a fixed outcome (or raises), and counts its runs."""

    def __init__(self, status: str = "completed", *, error: str | None = None, transient: bool = False,
                 raises: Exception | None = None):
        self.status, self.error, self.transient, self.raises = status, error, transient, raises
        self.runs = 0

    def run(self, ctx):
        self.runs += 1
        if self.raises is not None:
            raise self.raises
        return PhaseOutcome(status=self.status, result={"placeholder": True, "attempt": ctx.attempt},
                            error=self.error, transient=self.transient)


def placeholders(**overrides):
    """Register placeholders for the later phases (and any overrides); returns them and an undo."""
    made = {name: overrides.get(name, Placeholder()) for name in ("market", "seo", "listing")}
    made.update({k: v for k, v in overrides.items() if k not in made})
    for name, module in made.items():
        register_phase(name, module)

    def undo():
        for name in made:
            unregister_phase(name)

    return made, undo

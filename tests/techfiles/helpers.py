"""Products with real photos, made straight through the pipeline models and core storage."""
from __future__ import annotations

from pathlib import Path

from PIL import Image

from app.core import storage
from app.extensions import db
from app.pipeline.models import Product, ProductImage

PHOTOS = Path(__file__).resolve().parents[1] / "fixtures" / "techfiles"
PHOTO_FILES = ("label.webp", "code.webp")


def make_product(org, user=None, photos=PHOTO_FILES, name="Barcode label") -> Product:
    """A product of `org` with the given fixture photos stored as its uploaded images."""
    product = Product(organisation_id=org.id, hint_name=name, brand="Acme", gtin="9780804816632",
                      created_by_id=user.id if user else None)
    db.session.add(product)
    db.session.flush()
    for position, filename in enumerate(photos):
        data = (PHOTOS / filename).read_bytes()
        stored = storage.save_bytes(data)
        with Image.open(PHOTOS / filename) as im:
            width, height, fmt = im.width, im.height, im.format
        db.session.add(ProductImage(organisation_id=org.id, product_id=product.id, sha256=stored.sha256,
                                    filename=filename, format=fmt, size_bytes=len(data), width=width,
                                    height=height, position=position))
    db.session.commit()
    return product

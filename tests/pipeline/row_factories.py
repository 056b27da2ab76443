"""Rows of the pipeline for the cross-organisation route walk."""
from __future__ import annotations

from app.extensions import db
from app.pipeline.models import Product, ProductImage, ProductStatus
from tests.tenancy_rows import factory


@factory
def pipeline_rows(org, user) -> dict:
    product = Product(organisation_id=org.id, status=ProductStatus.NEEDS_REVIEW, hint_name="Their product",
                      created_by_id=user.id)
    db.session.add(product)
    db.session.flush()
    image = ProductImage(organisation_id=org.id, product_id=product.id, sha256="0" * 64, thumb_sha256="0" * 64,
                         filename="theirs.jpg", format="JPEG", size_bytes=1, width=1, height=1, position=0)
    db.session.add(image)
    db.session.commit()
    return {"product_id": product.id, "image_id": image.id}

"""The pipeline's attention items: products waiting for a person in the review queue."""
from __future__ import annotations

from sqlalchemy import select

from app.core.attention import Item, register_query_source
from app.pipeline.identify import REVIEW_REASONS
from app.pipeline.models import Product, ProductStatus
from app.pipeline.runner import PRODUCT_EVENT


def _in_review(org_id: int):
    return select(Product).where(Product.organisation_id == org_id, Product.status == ProductStatus.NEEDS_REVIEW)


def _item(product: Product) -> Item:
    reasons = [REVIEW_REASONS.get(r, r) for r in (product.review_reasons or [])]
    confidence = f"confidence {product.confidence}" if product.confidence is not None else "not identified"
    why = f"Waiting for review ({confidence})" + (": " + "; ".join(reasons[:2]) if reasons else "")
    return Item(kind="product_review", subject=str(product.id), title=product.title, why=why,
                endpoint="review.queue", args={"product": product.id}, since=product.updated_at, level="warning")


register_query_source("product_review", label="Products waiting for review", roles=("manager",), rows=_in_review,
                      id_column=Product.id, order_by=(Product.created_at, Product.id), item=_item,
                      events=(PRODUCT_EVENT,), order=10)

"""Rows that need a person, one per source, for the attention tests."""
from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from app.batches.models import Batch, BatchStatus
from app.core import ai_ledger, storage
from app.core.ai_ledger import Served
from app.core.models import utcnow
from app.extensions import db
from app.inbox import services as inbox_services
from app.inbox.models import Channel
from app.inbox.review_models import Extraction, ExtractionStatus
from app.inventory.models import Item as StockItem
from app.orders import services as order_services
from app.pipeline.models import Product, ProductStatus

_numbers = itertools.count(1)


def product_in_review(org, *, title: str = "Mystery box") -> Product:
    product = Product(organisation_id=org.id, status=ProductStatus.NEEDS_REVIEW, hint_name=title,
                      review_reasons=["low_confidence"])
    db.session.add(product)
    db.session.commit()
    return product


def message_in_review(org, *, body: str = "2 boxes of green tea please, call 07700 900123") -> Extraction:
    message, _ = inbox_services.message_receive(org_id=org.id, channel=Channel.SMS, sender="+15550001111", body=body,
                                                external_id=f"att-{org.id}-{utcnow().timestamp()}")
    extraction = Extraction(organisation_id=org.id, message_id=message.id, status=ExtractionStatus.REVIEW,
                            confidence=0, provider="offline", reasons=["No product matched"])
    db.session.add(extraction)
    db.session.commit()
    return extraction


def batch_with_failed_rows(org, user) -> Batch:
    stored = storage.save_bytes(b"title\nA\nB\n", ".csv")
    batch = Batch(organisation_id=org.id, created_by_id=user.id, filename="spring.csv", stored_sha256=stored.sha256,
                  stored_suffix=".csv", size_bytes=stored.size, format={}, mapping={"title": "title"},
                  status=BatchStatus.COMPLETED_WITH_ERRORS, total_rows=2, processed_rows=2, successful_rows=1,
                  failed_rows=1, max_concurrent_jobs=1, chunk_size=10, finished_at=utcnow())
    db.session.add(batch)
    db.session.commit()
    return batch


def stock_item(org, *, on_hand: int, reorder_point: int, sku: str = "TEA-1", **fields) -> StockItem:
    from app.inventory.services import item_create

    item = item_create(org_id=org.id, by=None, initial_stock=on_hand, sku=sku, title="Green tea",
                       reorder_point=reorder_point, **fields)
    db.session.commit()
    return item


def order_reserved_until(org, user, *, hours: float) -> int:
    item = stock_item(org, on_hand=50, reorder_point=0, sku=f"RES-{next(_numbers)}",
                      price="5.00", currency="EUR")
    order = order_services.order_create(org_id=org.id, customer={"name": "Ada Lovelace", "email": "ada@example.test"},
                                        lines=[{"item_id": item.id, "quantity": 1}], by=user)
    order_services.order_confirm(org_id=org.id, order_id=order.id, by=user)
    order = db.session.get(type(order), order.id)
    order.reserved_until = utcnow() + timedelta(hours=hours)
    db.session.commit()
    return order.id


def spend(org, amount: str, *, calls: int = 1) -> None:
    """AI calls of the pipeline's vision capability costing `amount` each."""
    org_id = org.id
    db.session.commit()  # the calls are written on their own connection: the next read must start afresh
    for _ in range(calls):
        ai_ledger.record(served=Served(org_id, "product", 1), capability="vision", provider="test", model="m",
                         ok=True, cost=Decimal(amount), currency="USD")

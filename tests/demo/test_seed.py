"""The demo warehouse `make run` builds: real services, once per instance, nothing when DEMO=0."""
from __future__ import annotations

from sqlalchemy import func, select

from app.batches.models import Batch
from app.batches.statuses import BatchStatus
from app.demo import seed_demo_warehouse
from app.extensions import db
from app.inbox.models import Conversation
from app.inventory.models import Item, PricingRule
from app.orders.models import Order
from app.orders.statuses import OrderStatus
from app.pipeline.models import Product
from app.pipeline.statuses import ProductStatus
from app.techfiles.models import Collection
from app.techfiles.statuses import CollectionStatus


def count(model, org) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(model.organisation_id == org.id))


def test_demo_warehouse_is_built_once_and_the_worker_finishes_it(org, manager, staff, run_jobs):
    done = seed_demo_warehouse(org_id=org.id, manager=manager, staff=staff)
    assert len(done) == 6 and "135 items created" in done[0]
    items = db.session.scalars(select(Item).where(Item.organisation_id == org.id)).all()
    assert len(items) == 135 and all(i.price is not None and str(i.price).endswith(".90") for i in items)
    assert count(PricingRule, org) == 1
    statuses = set(db.session.scalars(select(Order.status).where(Order.organisation_id == org.id)))
    assert {OrderStatus.DRAFT, OrderStatus.CONFIRMED, OrderStatus.SHIPPED} <= statuses
    assert count(Conversation, org) == 2 and count(Product, org) == 3
    assert seed_demo_warehouse(org_id=org.id, manager=manager, staff=staff) == []  # once per instance
    assert count(Item, org) == 135 and count(Order, org) == 4

    run_jobs()
    batch = db.session.scalar(select(Batch).where(Batch.organisation_id == org.id))
    assert batch.status == BatchStatus.COMPLETED and batch.successful_rows == 8
    collection = db.session.scalar(select(Collection).where(Collection.organisation_id == org.id))
    assert collection.status == CollectionStatus.COMPLETED
    products = db.session.scalars(select(Product).where(Product.organisation_id == org.id)).all()
    # The photo with no barcode and no text cannot be identified: a person reviews it.
    unclear = next(p for p in products if p.images[0].filename == "no-barcode-no-text.webp")
    assert unclear.status == ProductStatus.NEEDS_REVIEW


def test_an_organisation_already_in_use_gets_no_demo(org, manager, staff):
    from tests.inventory.factories import make_item

    make_item(org, sku="MINE-1")
    assert "already has items" in seed_demo_warehouse(org_id=org.id, manager=manager, staff=staff)[0]
    assert count(Item, org) == 1 and count(Order, org) == 0


def test_demo_0_starts_empty(app):
    from app.cli import seed_demo_accounts, seed_demo_data

    app.config["DEMO"] = False
    seed_demo_accounts()
    assert seed_demo_data() == []
    assert db.session.scalar(select(func.count()).select_from(Item)) == 0

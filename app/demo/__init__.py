"""The demo warehouse: what `make run` builds once in the demo organisation of a new instance.

Everything goes through the same service functions a person's clicks reach, with real inputs
from `data/`: a supplier import priced by a pricing rule, orders moved through their statuses,
two customer messages, product photos and a CSV batch queued for the worker, and a tech pack
queued for one product. Nothing here writes a result: the worker started by `make run` reads the
photos, the messages and the batch rows for real, and whatever it cannot read waits for a person.
"""
from __future__ import annotations

import io
import logging
from pathlib import Path

from sqlalchemy import func, select

from app.core import audit
from app.core.models import AuditEntry, User
from app.extensions import db
from app.inventory.models import Item

log = logging.getLogger(__name__)
DATA = Path(__file__).with_name("data")
SEEDED = "demo.seed"
PRICING = {"markup_percent": "150", "price_ending": "0.90", "min_margin_percent": "40"}
# Customers of the demo orders: who, and how far each order has gone.
ORDERS = (("Olivia Brooks", "olivia.brooks@example.com", ("confirm", "ship")),
          ("Noah Clarke", "noah.clarke@example.com", ("confirm", "start_production")),
          ("Amelia Hughes", "amelia.hughes@example.com", ("confirm",)),
          ("Leo Walsh", "leo.walsh@example.com", ()))
PHOTOS = ("ean13-9780140013993.webp", "upca-075720003259.webp", "no-barcode-no-text.webp")


def demo_seeded(org_id: int) -> bool:
    return db.session.scalar(select(AuditEntry.id).where(AuditEntry.organisation_id == org_id,
                                                         AuditEntry.action == SEEDED).limit(1)) is not None


def seed_demo_warehouse(*, org_id: int, manager: User, staff: User) -> list[str]:
    """Build the demo warehouse once; return what was done, one line per step (empty when already done)."""
    if demo_seeded(org_id):
        return []
    if db.session.scalar(select(func.count()).select_from(Item).where(Item.organisation_id == org_id)):
        return ["The demo organisation already has items: the demo warehouse was not added."]
    done = [_pricing_and_import(org_id, manager), _orders(org_id, manager), _messages(org_id)]
    product_ids, line = _products(org_id, staff)
    done += [line, _batch(org_id, manager), _tech_pack(org_id, manager, product_ids)]
    audit.record(org_id=org_id, actor_id=None, action=SEEDED, object_type="organisation", object_id=org_id,
                 after={"steps": done})
    db.session.commit()
    return done


def _pricing_and_import(org_id: int, manager: User) -> str:
    from app.inventory import imports, pricing

    pricing.pricing_rule_save(org_id=org_id, by=manager, **PRICING)
    name = "jewellery-orders-135.json"
    record = imports.supplier_import_preview(org_id=org_id, by=manager, data=(DATA / name).read_bytes(),
                                             filename=name)
    imports.supplier_import_confirm(org_id=org_id, import_id=record.id, valid_only=True, by=manager)
    # Run here rather than waiting for the worker: the orders below need the items. The queued
    # job finds the import finished and does nothing.
    record = imports.supplier_import_run(import_id=record.id)
    return (f"Supplier import #{record.id}: {record.created_count} items created, priced by the rule "
            f"(markup {PRICING['markup_percent']} %, ending .90, margin at least {PRICING['min_margin_percent']} %)")


def _stocked_items(org_id: int, currency: str, n: int) -> list[Item]:
    return list(db.session.scalars(select(Item).where(
        Item.organisation_id == org_id, Item.currency == currency, Item.price.is_not(None),
        Item.on_hand - Item.reserved >= 3).order_by(Item.id).limit(n)))


def _orders(org_id: int, manager: User) -> str:
    from app.orders import services as orders

    items = _stocked_items(org_id, "USD", 2 * len(ORDERS))
    if len(items) < 2:
        return "Orders: not enough priced items in stock to take an order."
    numbers = []
    for n, (name, email, actions) in enumerate(ORDERS):
        picked = items[2 * n:2 * n + 2] or items[:2]
        order = orders.order_create(org_id=org_id, by=manager, source="manual",
                                    customer={"name": name, "email": email},
                                    lines=[{"item_id": i.id, "quantity": q} for i, q in zip(picked, (1, 2))])
        for action in actions:
            order = orders.order_transition(org_id=org_id, order_id=order.id, action=action, by=manager)
        numbers.append(f"{order.number} {order.status.label.lower()}")
    return "Orders: " + ", ".join(numbers)


def _messages(org_id: int) -> str:
    from app.inbox import services as inbox
    from app.inbox.models import Channel

    items = _stocked_items(org_id, "USD", 2)
    if len(items) < 2:
        return "Inbox: no priced items to ask for."
    clear = f"Hi, please send 3 of {items[0].title} and 2 {items[1].title} by Friday. Thanks, Grace"
    for sender, body, ident in (("+447700900001", clear, "demo-1"), ("+447700900002", "the usual please", "demo-2")):
        inbox.message_receive(org_id=org_id, channel=Channel.WHATSAPP, sender=sender, body=body, external_id=ident,
                              sender_name="Grace Miller" if ident == "demo-1" else "")
    return "Inbox: two WhatsApp messages received, read by the worker"


def _products(org_id: int, staff: User) -> tuple[list[int], str]:
    from app.pipeline import services as pipeline

    ids = []
    for name in PHOTOS:
        result = pipeline.product_create(org_id=org_id, by=staff,
                                         files=[(name, io.BytesIO((DATA / "photos" / name).read_bytes()))])
        if result.product is not None:
            ids.append(result.product.id)
    return ids, f"Pipeline: {len(ids)} products uploaded from barcode photos, analysed by the worker"


def _batch(org_id: int, manager: User) -> str:
    from app.batches import services as batches

    name = "new-collection.csv"
    with (DATA / name).open("rb") as stream:
        batch = batches.batch_upload(org_id=org_id, by=manager, stream=stream, filename=name)
    batches.batch_mapping_set(org_id=org_id, batch_id=batch.id, mapping=dict(batch.mapping), by=manager)
    batch = batches.batch_start(org_id=org_id, batch_id=batch.id, by=manager)
    return f"CSV batch #{batch.id}: {batch.total_rows} rows started"


def _tech_pack(org_id: int, manager: User, product_ids: list[int]) -> str:
    from app.techfiles.collections import collection_start

    if not product_ids:
        return "Tech files: no product to generate them for."
    collection = collection_start(org_id=org_id, product_id=product_ids[0], kind="tech_pack", by=manager)
    return f"Tech files: collection #{collection.id} queued for product #{product_ids[0]}"

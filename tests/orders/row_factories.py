"""Rows of the orders domain for the cross-organisation route walk."""
from __future__ import annotations

from app.extensions import db
from app.inventory.models import Item
from app.orders import services
from tests.tenancy_rows import factory


@factory
def orders_rows(org, user) -> dict:
    item = Item(organisation_id=org.id, sku="WALK-1", title="Walk item", price=1, currency="EUR")
    db.session.add(item)
    db.session.commit()
    order = services.order_create(org_id=org.id, customer={"name": "Victim", "email": "v@rival.test", "save": True},
                                  lines=[{"item_id": item.id, "quantity": 1}], by=user)
    design = services.design_create(org_id=org.id, name="Walk design", product_item_id=item.id,
                                    component_item_ids=[], options={}, by=user)
    return {"order_id": order.id, "design_id": design.id, "action": "cancel", "customer_id": order.customer_id,
            "line_id": order.lines[0].id, "number": 1, "image_id": 1}

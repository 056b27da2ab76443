"""Rows of another organisation for the cross-organisation route walk."""
from __future__ import annotations

from app.inventory import holds, imports, rules
from tests.conftest import FIXTURES
from tests.inventory.factories import make_item
from tests.tenancy_rows import factory


@factory
def inventory_rows(org, user) -> dict:
    item = make_item(org, sku=f"RIVAL-{org.id}", on_hand=3)
    rule = rules.rules_ensure(org_id=org.id)[0]
    data = (FIXTURES / "aliexpress" / "sample-orders.json").read_bytes()
    record = imports.supplier_import_preview(org_id=org.id, by=user, data=data, filename="rival.json")
    hold = holds.hold_create(org_id=org.id, item_id=item.id, quantity=1, reason="rival's customer", by=user)
    return {"item_id": item.id, "rule_id": rule.id, "import_id": record.id, "hold_id": hold.id,
            "image_id": 1}

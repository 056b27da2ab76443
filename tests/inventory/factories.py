"""Items for tests, created through the service so the ledger explains their stock."""
from __future__ import annotations

from itertools import count

from app.inventory.services import item_create

_n = count(1)


def make_item(org, *, sku: str | None = None, title: str | None = None, on_hand: int = 0, by=None,
              **fields):
    n = next(_n)
    return item_create(org_id=org.id, by=by, initial_stock=on_hand,
                       sku=sku or f"TST-{n}", title=title or f"Test item {n}", **fields)

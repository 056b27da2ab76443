"""The catalogue a work horse matches against: read again only as far as it changed."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from app.extensions import db
from app.inventory.services import item_build
from app.pipeline.catalogue import catalogue_for
from app.pipeline.models import ProductStatus
from tests.pipeline.helpers import BLANK_PHOTO, create_product


@pytest.fixture
def statements():
    seen: list[str] = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(db.engine, "before_cursor_execute", listener)
    yield seen
    event.remove(db.engine, "before_cursor_execute", listener)


def _names(org_id: int, **kwargs) -> list[str]:
    return [e.name for e in catalogue_for(org_id, **kwargs)]


def _completed(org, manager, name: str):
    product = create_product(org, manager, BLANK_PHOTO, start=False)
    product.name, product.status = name, ProductStatus.COMPLETED
    db.session.commit()
    return product


def test_items_are_read_again_only_when_they_changed(org, statements):
    item_build(org_id=org.id, sku="A-1", title="Rolo chain 45 cm", gtin="4006381333931", brand="Acme")
    db.session.commit()
    assert _names(org.id) == ["Rolo chain 45 cm"]
    statements.clear()
    assert _names(org.id) == ["Rolo chain 45 cm"]
    assert len(statements) == 1  # the versions of items and products, not their rows
    item_build(org_id=org.id, sku="A-2", title="Curb chain 50 cm", gtin="4006381333948", brand="Acme")
    db.session.commit()
    assert sorted(_names(org.id)) == ["Curb chain 50 cm", "Rolo chain 45 cm"]


def test_a_product_completed_since_is_read_alone(org, manager, statements):
    first = _completed(org, manager, "Named product")
    assert _names(org.id) == ["Named product"]
    assert _names(org.id, exclude_product=first.id) == []
    for i in range(3):
        _completed(org, manager, f"Earlier {i}")
    _names(org.id)
    statements.clear()
    _completed(org, manager, "Finished just now")
    statements.clear()
    assert _names(org.id)[-1] == "Finished just now"
    product_reads = [s for s in statements if "FROM products" in s and "count(" not in s]
    assert len(product_reads) == 1 and "updated_at >=" in product_reads[0]  # the changed rows, not every product


def test_a_product_that_left_the_completed_set_leaves_the_catalogue(org, manager):
    kept, reopened = _completed(org, manager, "Kept"), _completed(org, manager, "Reopened")
    assert sorted(_names(org.id)) == ["Kept", "Reopened"]
    reopened.status = ProductStatus.NEEDS_REVIEW
    db.session.commit()
    assert _names(org.id) == ["Kept"]
    renamed = _completed(org, manager, "Old name")  # one joins while another leaves: the count alone stays
    kept.name = None
    renamed.name = "New name"
    db.session.commit()
    assert _names(org.id) == ["New name"]


def test_an_older_product_completed_again_keeps_the_id_order(org, manager):
    older = _completed(org, manager, "Older")
    _completed(org, manager, "Newer")
    older.status = ProductStatus.NEEDS_REVIEW
    db.session.commit()
    assert _names(org.id) == ["Newer"]
    older.status = ProductStatus.COMPLETED
    db.session.commit()
    assert _names(org.id) == ["Older", "Newer"]

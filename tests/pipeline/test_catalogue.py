"""The catalogue a work horse matches against: read again only as far as it changed."""
from __future__ import annotations

import pytest
from sqlalchemy import event, text

from app.extensions import db
from app.inventory.services import item_build
from app.pipeline.catalogue import known_for
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
    return [e.name for e in known_for(org_id, **kwargs).catalogue]


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


def _hashed(org, manager, phash: str, status=ProductStatus.NEEDS_REVIEW):
    product = create_product(org, manager, BLANK_PHOTO, start=False)
    product.phash, product.status = phash, status
    db.session.commit()
    return product


def test_the_photo_hashes_are_read_again_only_as_far_as_they_changed(org, manager, statements):
    first = _hashed(org, manager, "00000000000000ff")
    for i in range(3):
        _hashed(org, manager, f"{i + 1:016x}")
    known = known_for(org.id, exclude_product=first.id)
    assert first.id not in known.hashes and len(known.hashes) == 3
    assert known_for(org.id).hashes[first.id] == 0xFF
    statements.clear()
    latest = _hashed(org, manager, "ffffffffffffffff", status=ProductStatus.PROCESSING).id
    statements.clear()
    assert known_for(org.id).hashes[latest] == 2 ** 64 - 1
    hash_reads = [s for s in statements if "products.phash" in s and "count(" not in s]
    assert len(hash_reads) == 1 and "updated_at >=" in hash_reads[0]  # the changed rows, not every product


def test_an_archived_or_unhashed_product_leaves_the_hashes(org, manager):
    archived, cleared, kept = (_hashed(org, manager, f"{i:016x}") for i in (1, 2, 3))
    assert set(known_for(org.id).hashes) == {archived.id, cleared.id, kept.id}
    archived.status = ProductStatus.ARCHIVED
    db.session.commit()
    assert set(known_for(org.id).hashes) == {cleared.id, kept.id}
    joined = _hashed(org, manager, "0000000000000004")  # one joins while another leaves: the count alone stays
    cleared.phash = None
    db.session.commit()
    assert set(known_for(org.id).hashes) == {kept.id, joined.id}


def test_near_duplicates_among_integer_hashes_nearest_first():
    from app.analysis.duplicates import near_duplicates_among

    candidates = {1: 0b1111, 2: 0, 3: 2 ** 63 - 1, 4: 0b1}
    assert near_duplicates_among("0000000000000000", candidates, max_distance=4) == [(2, 0), (4, 1), (1, 4)]
    assert near_duplicates_among("not a hash", candidates) == []


def test_a_deleted_product_leaves_both_sets(org, manager):
    from sqlalchemy import delete

    from app.pipeline.models import Product, ProductImage, ProductPhase

    gone, kept = _completed(org, manager, "Gone"), _completed(org, manager, "Kept")
    gone.phash = kept.phash = "0000000000000001"
    db.session.commit()
    gone_id = gone.id
    assert set(known_for(org.id).hashes) == {gone_id, kept.id} and _names(org.id) == ["Gone", "Kept"]
    for model in (ProductImage, ProductPhase):
        db.session.execute(delete(model).where(model.product_id == gone_id))
    db.session.execute(text("DELETE FROM pipeline_log WHERE product_id = :id"), {"id": gone_id})
    db.session.execute(delete(Product).where(Product.id == gone_id))
    db.session.commit()
    assert set(known_for(org.id).hashes) == {kept.id} and _names(org.id) == ["Kept"]


def test_keyword_rules_are_read_again_only_when_they_changed(org, manager, statements):
    from app.inventory.rules import rule_delete, rule_save, rules_ensure

    rules_ensure(org_id=org.id)
    first = known_for(org.id).rules
    assert first and all(rule.keywords for rule in first)
    statements.clear()
    assert known_for(org.id).rules == first
    assert len(statements) == 1  # the versions only
    rule = rule_save(org_id=org.id, rule_id=None, path="Jewellery > Anklets", keywords="anklet, ankle chain",
                     priority=99, by=manager)
    path = rule.path
    assert [r.category for r in known_for(org.id).rules].count(path) == 1
    rule_save(org_id=org.id, rule_id=rule.id, path=path, keywords="toe ring", priority=99, by=manager)
    edited = next(r for r in known_for(org.id).rules if r.category == path)
    assert edited.keywords == ("toe ring",)
    rule_delete(org_id=org.id, rule_id=rule.id, by=manager)
    assert path not in [r.category for r in known_for(org.id).rules]

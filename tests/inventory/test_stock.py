"""The stock interface: reservations, releases, shipments, returns and adjustments, and races."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from app.core.database import write_intent
from app.core.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.inventory.models import Item, MovementKind, StockMovement
from app.inventory.stock import InsufficientStock, stock_adjust, stock_release, stock_reserve, stock_return, stock_ship
from tests.inventory.factories import make_item


def ledger(item_id: int) -> tuple[int, int]:
    row = db.session.execute(select(func.coalesce(func.sum(StockMovement.on_hand_delta), 0),
                                    func.coalesce(func.sum(StockMovement.reserved_delta), 0))
                             .where(StockMovement.item_id == item_id)).one()
    return int(row[0]), int(row[1])


def numbers(item_id: int) -> tuple[int, int]:
    db.session.expire_all()
    item = db.session.get(Item, item_id)
    return item.on_hand, item.reserved


def test_reserve_ship_release_return_keep_the_ledger_equal_to_the_numbers(org, manager):
    a = make_item(org, sku="ABC-1", on_hand=10)
    b = make_item(org, sku="ABC-2", on_hand=4)
    stock_reserve(org_id=org.id, lines=[(b.id, 3), (a.id, 5)], reference="SO-1", by=manager)
    db.session.commit()
    assert numbers(a.id) == (10, 5) and numbers(b.id) == (4, 3)
    stock_ship(org_id=org.id, lines=[(a.id, 2)], reference="SO-1", by=manager)
    stock_release(org_id=org.id, lines=[(a.id, 3), (b.id, 3)], reference="SO-1", by=None)
    stock_return(org_id=org.id, lines=[(a.id, 1)], reference="SO-1", by=None)
    db.session.commit()
    assert numbers(a.id) == (9, 0) and numbers(b.id) == (4, 0)
    for item in (a, b):
        assert ledger(item.id) == numbers(item.id)
    kinds = db.session.scalars(select(StockMovement.kind).where(StockMovement.item_id == a.id)
                               .order_by(StockMovement.id)).all()
    assert kinds == [MovementKind.ADJUSTMENT, MovementKind.RESERVATION, MovementKind.SHIPMENT,
                     MovementKind.RELEASE, MovementKind.RETURN]


def test_reserve_is_all_lines_or_none(org):
    a = make_item(org, sku="ABC-1", on_hand=10)
    b = make_item(org, sku="ABC-2", on_hand=3)
    with pytest.raises(InsufficientStock) as exc:
        stock_reserve(org_id=org.id, lines=[(a.id, 2), (b.id, 5)], reference="SO-2", by=None)
    assert str(exc.value) == "Insufficient stock for SKU ABC-2: 3 available, 5 requested."
    assert exc.value.status == 409
    db.session.rollback()
    assert numbers(a.id) == (10, 0) and numbers(b.id) == (3, 0)
    assert ledger(a.id) == (10, 0)


def test_duplicate_lines_are_summed(org):
    a = make_item(org, sku="ABC-1", on_hand=5)
    with pytest.raises(InsufficientStock, match="4 available|5 available, 6 requested"):
        stock_reserve(org_id=org.id, lines=[(a.id, 3), (a.id, 3)], reference="SO-3", by=None)


@pytest.mark.parametrize("lines", [[], [(1, 0)], [(1, -2)], [(1, 1.5)], [(1, True)]])
def test_bad_quantities_are_refused(org, lines):
    with pytest.raises(InvalidInput):
        stock_reserve(org_id=org.id, lines=lines, reference="SO", by=None)


def test_release_and_ship_need_reserved_units(org):
    a = make_item(org, sku="ABC-1", on_hand=5)
    with pytest.raises(Conflict, match="only 0 reserved"):
        stock_release(org_id=org.id, lines=[(a.id, 1)], reference="SO", by=None)
    with pytest.raises(Conflict, match="Cannot ship 1 of SKU ABC-1"):
        stock_ship(org_id=org.id, lines=[(a.id, 1)], reference="SO", by=None)


def test_another_organisations_item_is_not_found(org, other_org):
    theirs = make_item(other_org, sku="THEIRS", on_hand=5)
    with pytest.raises(NotFound):
        stock_reserve(org_id=org.id, lines=[(theirs.id, 1)], reference="SO", by=None)
    with pytest.raises(NotFound):
        stock_adjust(org_id=org.id, item_id=theirs.id, delta=1, reason="count", by=None)
    db.session.rollback()
    assert numbers(theirs.id) == (5, 0)


def test_adjust_commits_with_reason_and_cannot_eat_reserved_units(org, manager):
    a = make_item(org, sku="ABC-1", on_hand=5)
    stock_reserve(org_id=org.id, lines=[(a.id, 3)], reference="SO-9", by=None)
    db.session.commit()
    with pytest.raises(Conflict, match="at most 2 can be removed"):
        stock_adjust(org_id=org.id, item_id=a.id, delta=-3, reason="damaged", by=manager)
    db.session.rollback()
    with pytest.raises(InvalidInput):
        stock_adjust(org_id=org.id, item_id=a.id, delta=-1, reason="  ", by=manager)
    with pytest.raises(InvalidInput):
        stock_adjust(org_id=org.id, item_id=a.id, delta=0, reason="count", by=manager)
    item = stock_adjust(org_id=org.id, item_id=a.id, delta=-2, reason="damaged", by=manager)
    assert (item.on_hand, item.reserved, item.available) == (3, 3, 0)
    last = db.session.scalar(select(StockMovement).order_by(StockMovement.id.desc()).limit(1))
    assert (last.kind, last.on_hand_delta, last.reason, last.user_id) == (MovementKind.ADJUSTMENT, -2, "damaged",
                                                                          manager.id)
    assert ledger(a.id) == (3, 3)


def test_the_database_refuses_negative_available(org):
    a = make_item(org, sku="ABC-1", on_hand=2)
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE inventory_items SET reserved = 3 WHERE id = :id"), {"id": a.id})
        db.session.flush()
    db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE inventory_items SET reserved = -1 WHERE id = :id"), {"id": a.id})
    db.session.rollback()


def test_events_are_published_after_commit_only(app, org, monkeypatch):
    from app.core import events

    sent = []
    monkeypatch.setattr(events, "publish_all", sent.extend)
    a = make_item(org, sku="ABC-1", on_hand=2)
    sent.clear()
    stock_reserve(org_id=org.id, lines=[(a.id, 1)], reference="SO", by=None)
    db.session.rollback()
    assert sent == []
    stock_reserve(org_id=org.id, lines=[(a.id, 1)], reference="SO", by=None)
    db.session.commit()
    assert sent == [(org.id, "inventory-item-changed", {"item_ids": [a.id]})]


def test_twenty_concurrent_reservations_for_five_units(app, org):
    item = make_item(org, sku="LAST-5", on_hand=5)
    item_id, org_id = item.id, org.id
    db.session.commit()
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def confirm(n: int) -> None:
        with app.app_context(), write_intent():
            try:
                barrier.wait(10)
                stock_reserve(org_id=org_id, lines=[(item_id, 1)], reference=f"SO-{n}", by=None)
                db.session.commit()
                result = "ok"
            except InsufficientStock as exc:
                db.session.rollback()
                result = str(exc)
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=confirm, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outcomes) == 20
    assert outcomes.count("ok") == 5
    assert all(o == "Insufficient stock for SKU LAST-5: 0 available, 1 requested." for o in outcomes if o != "ok")
    assert numbers(item_id) == (5, 5)
    assert ledger(item_id) == (5, 5)
    assert db.session.scalar(select(func.count()).select_from(StockMovement)
                             .where(StockMovement.kind == MovementKind.RESERVATION)) == 5

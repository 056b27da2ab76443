"""Deep pages are found by their ids first; they hold the same rows, in the same order."""
from decimal import Decimal

from sqlalchemy import insert

from app.core.pagination import DEFERRED_FROM, paginate
from app.extensions import db
from app.inventory.models import Item
from app.inventory.selectors import ItemFilters, item_list_query


def test_a_deep_page_holds_the_rows_a_plain_offset_gives(app, org):
    db.session.execute(insert(Item), [
        {"organisation_id": org.id, "sku": f"PG-{n:05d}", "title": f"Chain {n % 7}", "search_text": f"pg-{n:05d} chain",
         "currency": "EUR", "price": Decimal("9.90"), "on_hand": n % 13, "reserved": 0}
        for n in range(DEFERRED_FROM + 120)])
    db.session.commit()
    for sort in ("sku", "-on_hand"):
        query = item_list_query(org.id, ItemFilters(sort=sort))
        deep = paginate(query, DEFERRED_FROM // 50 + 2, per_page=50)
        plain = db.session.scalars(query.limit(50).offset((deep.page - 1) * 50)).all()
        assert (deep.page - 1) * 50 >= DEFERRED_FROM and len(deep.items) == 50
        assert [i.id for i in deep.items] == [i.id for i in plain]
        assert deep.total == DEFERRED_FROM + 120
    last = paginate(item_list_query(org.id, ItemFilters()), 999, per_page=50)
    assert last.items == [] and last.has_prev

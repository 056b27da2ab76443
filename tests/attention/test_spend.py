"""AI spend rolled up by capability and by the kind of object served, with each one's share of the spend."""
from __future__ import annotations

from decimal import Decimal

from app.core import ai_ledger
from app.core.ai_ledger import Served
from app.extensions import db
from app.inbox import usage

CALLS = [("vision", "product", "0.30"), ("vision", "product", "0.20"), ("price", "product", "0.10"),
         ("image", "batch_row", "0.40"), ("image", "collection", "0.80"), ("text", "message", "0.20")]


def _record(org) -> None:
    org_id = org.id
    db.session.commit()
    for i, (capability, object_type, cost) in enumerate(CALLS):
        ai_ledger.record(served=Served(org_id, object_type, i + 1), capability=capability, provider="p", ok=True,
                         cost=Decimal(cost), currency="USD", prompt_tokens=100, completion_tokens=10)


def test_spend_by_capability_and_object_type_with_shares(app, org, other_org):
    _record(org)
    _record(other_org)
    totals = usage.provider_totals(org.id)
    by_capability = {t["key"]: (t["cost"], t["calls"], t["share"]) for t in totals.by_capability}
    assert by_capability == {"image": (Decimal("1.2"), 2, 60.0), "vision": (Decimal("0.5"), 2, 25.0),
                             "text": (Decimal("0.2"), 1, 10.0), "price": (Decimal("0.1"), 1, 5.0)}
    by_object = {t["key"]: (t["cost"], t["share"]) for t in totals.by_object_type}
    assert by_object == {"collection": (Decimal("0.8"), 40.0), "product": (Decimal("0.6"), 30.0),
                         "batch_row": (Decimal("0.4"), 20.0), "message": (Decimal("0.2"), 10.0)}
    assert ai_ledger.month_spend(org.id) == Decimal("2.0")


def test_usage_page_draws_the_shares_without_a_cdn(manager_client, org):
    _record(org)
    page = manager_client.get("/inbox/usage").get_data(as_text=True)
    assert 'data-share="40.0"' in page and "Tech-file collections: 40.0 % of the USD spend" in page
    assert "http://" not in page.split("<body", 1)[0] and "https://" not in page.split("<body", 1)[0]
    assert "choose how you hear of it" in page

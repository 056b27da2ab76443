"""Each source of attention items: the item is there while its row needs a person, says why, links
to where it is resolved, and is gone once it is resolved there."""
from __future__ import annotations

from datetime import timedelta

from flask import url_for

from app.attention import selectors
from app.core import ai_ledger, attention
from app.core.models import Organisation, utcnow
from app.extensions import db
from app.inventory import stock
from app.pipeline.models import ProductStatus
from tests.attention import helpers


def _items(kind: str, org) -> list[attention.Item]:
    return attention.source(kind).items(org.id, limit=50, offset=0, exclude=())


def _count(kind: str, org) -> int:
    return attention.source(kind).count(org.id)


def test_every_domain_publishes_a_source(app):
    kinds = {s.kind for s in attention.sources()}
    assert kinds >= {"product_review", "message_review", "batch_failed", "low_stock", "reservation_expiring",
                     "failed_job", "budget", "backup"}


def test_product_in_review_until_approved(app, org, other_org):
    product = helpers.product_in_review(org)
    helpers.product_in_review(other_org)
    [item] = _items("product_review", org)
    assert item.subject == str(product.id) and "Waiting for review" in item.why
    with app.test_request_context():
        assert url_for(item.endpoint, **item.args) == f"/review/?product={product.id}"
    product.status = ProductStatus.COMPLETED
    db.session.commit()
    assert _count("product_review", org) == 0


def test_message_in_review_hides_personal_data(app, org):
    extraction = helpers.message_in_review(org)
    [item] = _items("message_review", org)
    assert item.subject == str(extraction.id) and "No product matched" in item.why
    assert "07700 900123" not in item.title  # titles travel in e-mails and webhooks


def test_batch_with_failed_rows(app, org, admin):
    batch = helpers.batch_with_failed_rows(org, admin)
    [item] = _items("batch_failed", org)
    assert item.args == {"batch_id": batch.id} and "1 of 2 rows failed" in item.why


def test_low_stock_comes_and_goes_with_the_stock(app, org):
    item = helpers.stock_item(org, on_hand=10, reorder_point=5)
    assert _count("low_stock", org) == 0
    stock.stock_adjust(org_id=org.id, item_id=item.id, delta=-6, reason="breakage", by=None)
    [entry] = _items("low_stock", org)
    assert "4 available, at or below the reorder point of 5" == entry.why
    stock.stock_adjust(org_id=org.id, item_id=item.id, delta=+20, reason="delivery", by=None)
    assert _count("low_stock", org) == 0


def test_reservations_about_to_expire(app, org, admin):
    soon = helpers.order_reserved_until(org, admin, hours=3)
    helpers.order_reserved_until(org, admin, hours=24 * 5)  # far off: not yet a person's concern
    [item] = _items("reservation_expiring", org)
    assert item.subject == str(soon) and "Unpaid; its reservation ends at" in item.why


def test_failed_jobs_of_the_organisation(app, org, other_org, run_jobs):
    from app.core.queue import enqueue
    from tests.core.jobs_for_tests import explode

    enqueue(explode, "the label printer is offline", org_id=org.id)
    enqueue(explode, "someone else's problem", org_id=other_org.id)
    run_jobs()
    [item] = _items("failed_job", org)
    assert "the label printer is offline" in item.why and item.level == "error"


def test_budget_past_its_warning_level(app, org, admin):
    ai_ledger.budget_set(org_id=org.id, warning_amount="8", hard_limit="10", currency="USD", by=admin)
    helpers.spend(org, "5")
    month = ai_ledger.month_start().strftime("%Y-%m")
    assert _count("budget", org) == 0
    assert attention.source("budget").conditions(org.id) == {f"{month}:50"}
    helpers.spend(org, "3.5")
    [item] = _items("budget", org)
    assert "8.50 of 10.00 USD spent this month (85 %)" in item.why
    assert attention.source("budget").conditions(org.id) == {f"{month}:50", f"{month}:80"}


def test_backups_overdue_only_after_the_first_could_have_run(app, org):
    assert _count("backup", org) == 0  # a fresh installation
    db.session.get(Organisation, org.id).created_at = utcnow() - timedelta(days=3)
    db.session.commit()
    [item] = _items("backup", org)
    assert item.title == "Backups are overdue" and item.why == "There is no verified backup yet"


def test_counts_leave_out_snoozed_items_and_follow_roles(app, org, manager, staff):
    from app.attention import services

    first, second = helpers.product_in_review(org), helpers.product_in_review(org, title="Second")
    helpers.message_in_review(org)
    assert selectors.badge(manager)["total"] == 3
    assert selectors.badge(staff)["total"] == 1  # staff resolve messages, not product reviews
    services.item_snooze(item_key=f"product_review.{first.id}", until=utcnow() + timedelta(hours=2), by=manager)
    assert selectors.badge(manager)["total"] == 2
    assert selectors.counts(org.id)["product_review"] == 1
    assert second.id


def test_stock_holds_about_to_expire(app, org, manager):
    from app.inventory.models import HoldStatus, StockHold

    item = helpers.stock_item(org, on_hand=10, reorder_point=0)
    soon = StockHold(organisation_id=org.id, item_id=item.id, quantity=2, reason="for Mrs Patel",
                     status=HoldStatus.ACTIVE, expires_at=utcnow() + timedelta(hours=2), held_by_id=manager.id)
    later = StockHold(organisation_id=org.id, item_id=item.id, quantity=1, status=HoldStatus.ACTIVE,
                      expires_at=utcnow() + timedelta(days=4))
    db.session.add_all([soon, later])
    db.session.commit()
    [entry] = _items("hold_expiring", org)
    assert entry.subject == str(soon.id) and entry.why.startswith("2 put aside (for Mrs Patel); the hold ends at")
    assert entry.args == {"item_id": item.id}
    soon.status = HoldStatus.RELEASED
    db.session.commit()
    assert _count("hold_expiring", org) == 0

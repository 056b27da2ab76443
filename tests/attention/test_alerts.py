"""Alerts reach people once per condition start, on the channels each person chose; failing channels
retry with backoff and never hold up the work that raised the alert; a daily digest groups the rest."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select

from app.attention import alerts, delivery, services
from app.attention.models import Alert, AlertCondition, AlertDelivery
from app.attention.statuses import DeliveryStatus
from app.core import ai_ledger
from app.core.ai_models import AICall
from app.core.models import utcnow
from app.extensions import db
from app.pipeline.models import ProductStatus
from tests.attention import helpers
from tests.inbox.standins import HTTPStandIn, SMTPStandIn


def _alerts(user, kind: str | None = None) -> list[Alert]:
    query = select(Alert).where(Alert.user_id == user.id).order_by(Alert.id)
    return list(db.session.scalars(query.where(Alert.kind == kind) if kind else query))


def _evaluate(org, kinds=None) -> list[str]:
    return alerts.evaluate(org_id=org.id, kinds=kinds, lock=False)


def test_a_condition_alerts_once_until_it_clears_and_starts_again(app, org, manager, staff):
    product = helpers.product_in_review(org)
    assert _evaluate(org, {"product_review"}) == [f"product_review.{product.id}"]
    assert _evaluate(org, {"product_review"}) == []
    [alert] = _alerts(manager)
    assert alert.title == "Products waiting for review: Mystery box" and alert.url == f"/review/?product={product.id}"
    assert _alerts(staff) == []  # staff do not resolve product reviews
    product.status = ProductStatus.COMPLETED
    db.session.commit()
    assert _evaluate(org, {"product_review"}) == []
    assert not db.session.scalar(select(AlertCondition.active))
    product.status = ProductStatus.NEEDS_REVIEW
    db.session.commit()
    assert len(_evaluate(org, {"product_review"})) == 1
    assert len(_alerts(manager)) == 2


def _usage_records(org, count: int, cost: str) -> None:
    """`count` ledger rows as app.core.ai_ledger.record writes them, in one statement."""
    row = {"organisation_id": org.id, "capability": "vision", "provider": "test", "model": "m", "ok": True,
           "over_budget": False, "retried": False, "attempts": 1, "prompt_tokens": 10, "completion_tokens": 5,
           "cost": Decimal(cost), "currency": "USD", "duration_ms": 1, "object_type": "product", "object_id": 1,
           "created_at": utcnow()}
    db.session.execute(insert(AICall), [row] * count)
    db.session.commit()


def test_a_thousand_usage_records_past_80_percent_make_one_alert(app, org, manager):
    ai_ledger.budget_set(org_id=org.id, warning_amount="8", hard_limit="10", currency="USD", by=manager)
    helpers.spend(org, "7.9")
    assert [k.split(":")[-1] for k in _evaluate(org, {"budget"})] == ["50"]
    helpers.spend(org, "0.2")  # 81 %
    new = []
    for _ in range(20):  # a thousand more calls, looked at every 50 as the evaluation job would
        _usage_records(org, 50, "0.001")
        new += _evaluate(org, {"budget"})
    assert ai_ledger.month_spend(org.id) == Decimal("9.1")
    assert [k.split(":")[-1] for k in new] == ["80"]
    budget_alerts = _alerts(manager, "budget")
    assert [a.title for a in budget_alerts] == ["AI budget past a threshold: AI spend passed 50 % of the monthly budget",
                                               "AI budget past a threshold: AI spend passed 80 % of the monthly budget"]
    assert "8.15 of 10.00 USD" in budget_alerts[-1].lines[0]["why"]  # as it was when the condition was seen


def test_budget_levels_alert_again_next_month_only(app, org, manager):
    ai_ledger.budget_set(org_id=org.id, warning_amount="8", hard_limit="10", currency="USD", by=manager)
    helpers.spend(org, "10")
    assert sorted(k.split(":")[-1] for k in _evaluate(org, {"budget"})) == ["100", "50", "80"]
    assert _evaluate(org, {"budget"}) == []


def test_reorder_point_crossing_alerts_once(app, org, manager):
    from app.inventory import stock

    item = helpers.stock_item(org, on_hand=10, reorder_point=5)
    assert _evaluate(org, {"low_stock"}) == []
    stock.stock_adjust(org_id=org.id, item_id=item.id, delta=-6, reason="breakage", by=None)
    assert _evaluate(org, {"low_stock"}) == [f"low_stock.{item.id}"]
    stock.stock_adjust(org_id=org.id, item_id=item.id, delta=-1, reason="breakage", by=None)
    assert _evaluate(org, {"low_stock"}) == []  # still below: no second alert
    assert len(_alerts(manager, "low_stock")) == 1


def test_two_evaluators_at_once_alert_once(app, org, manager):
    helpers.product_in_review(org)
    source = alerts.attention.source("product_review")
    subjects = sorted(source.conditions(org.id))
    details = {i.subject: i for i in source.find(org.id, subjects)}
    first = alerts._switch_on(org.id, "product_review", subjects, details, utcnow())
    second = alerts._switch_on(org.id, "product_review", subjects, details, utcnow())
    db.session.commit()
    assert first == subjects and second == []


def test_resolved_items_lose_their_assignment_and_snooze(app, org, manager):
    product = helpers.product_in_review(org)
    services.item_assign(item_key=f"product_review.{product.id}", to_me=True, by=manager)
    product.status = ProductStatus.COMPLETED
    db.session.commit()
    _evaluate(org, {"product_review"})
    from app.attention.models import AttentionMark

    assert db.session.scalar(select(func.count(AttentionMark.id))) == 0


def test_email_goes_to_the_outbox_without_a_mail_server(app, org, manager, run_jobs):
    services.settings_set(channels={"product_review": {"app": "off", "email": "now"}}, webhook_url="", by=manager)
    helpers.product_in_review(org)
    _evaluate(org, {"product_review"})
    assert _alerts(manager) == []
    run_jobs()
    [sent] = db.session.scalars(select(AlertDelivery).where(AlertDelivery.user_id == manager.id)).all()
    assert (sent.status, sent.transport, sent.recipient) == (DeliveryStatus.SENT, "outbox", "manager@acme.test")
    assert "Mystery box" in sent.body and "/review/?product=" in sent.body


def test_email_through_smtp(app, org, manager, run_jobs):
    with SMTPStandIn() as smtp:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port))
        services.settings_set(channels={"product_review": {"email": "now"}}, webhook_url="", by=manager)
        helpers.product_in_review(org)
        _evaluate(org, {"product_review"})
        run_jobs()
    [message] = smtp.messages
    assert message["to"] == ["<manager@acme.test>"] and "Mystery box" in message["data"]


def test_a_failing_webhook_retries_with_backoff_and_never_blocks_the_alert(app, org, manager):
    app.config.update(ALERTS_RETRY_BASE_SECONDS=30, ALERTS_MAX_ATTEMPTS=3)
    with HTTPStandIn([(500, {"error": "down"}), (200, {})]) as hook:
        settings = services.settings_set(channels={"product_review": {"webhook": "now"}}, webhook_url=hook.url + "/in",
                                         by=manager)
        product = helpers.product_in_review(org)
        _evaluate(org, {"product_review"})  # writes the alert and the delivery; calls nobody
        assert hook.requests == []
        [row] = db.session.scalars(select(AlertDelivery)).all()
        first = delivery.delivery_attempt(delivery_id=row.id)
        assert first.status == DeliveryStatus.RETRYING and first.error.startswith("HTTP 500")
        wait = first.next_attempt_at - utcnow()
        assert timedelta(seconds=25) < wait <= timedelta(seconds=30)
        assert delivery.delivery_attempt(delivery_id=row.id).attempts == 1  # not due yet: not tried again
        first.next_attempt_at = utcnow()
        db.session.commit()
        second = delivery.delivery_attempt(delivery_id=row.id)
        assert (second.status, second.attempts, second.transport) == (DeliveryStatus.SENT, 2, "http")
    body = hook.requests[-1]["body"]
    signature = "sha256=" + hmac.new(settings.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
    assert hook.requests[-1]["headers"]["X-Stockroom-Signature"] == signature
    payload = json.loads(body)
    assert payload["event"] == "attention.alert" and payload["items"][0]["key"] == f"product_review.{product.id}"


def test_a_mail_server_that_stays_down_gives_up_after_the_last_try(app, org, manager):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT="9", ALERTS_MAX_ATTEMPTS=2, ALERTS_RETRY_BASE_SECONDS=10)
    services.settings_set(channels={"product_review": {"email": "now"}}, webhook_url="", by=manager)
    helpers.product_in_review(org)
    _evaluate(org, {"product_review"})
    [row] = db.session.scalars(select(AlertDelivery)).all()
    tried = delivery.delivery_attempt(delivery_id=row.id)
    assert tried.status == DeliveryStatus.RETRYING and tried.error.startswith("SMTP")
    tried.next_attempt_at = utcnow()
    db.session.commit()
    tried = delivery.delivery_attempt(delivery_id=row.id)
    assert (tried.status, tried.attempts, tried.next_attempt_at) == (DeliveryStatus.FAILED, 2, None)


def test_the_daily_digest_groups_the_days_conditions_once(app, org, manager):
    services.settings_set(channels={"product_review": {"app": "digest", "email": "digest"}}, webhook_url="",
                          by=manager)
    now = utcnow()
    slot, moment = alerts.digest_slot(now)
    for title in ("First box", "Second box"):
        helpers.product_in_review(org, title=title)
    alerts.evaluate(org_id=org.id, kinds={"product_review"}, now=moment - timedelta(hours=2), lock=False)
    assert _alerts(manager) == []  # nothing at once: the digest has them
    assert alerts.digest_run(slot=slot, now=now) == 2  # in the app, and by e-mail
    assert alerts.digest_run(slot=slot, now=now) == 0
    [digest] = _alerts(manager)
    assert digest.kind == "digest" and "2 new" in digest.title
    assert [line["title"] for line in digest.lines] == ["First box", "Second box"]
    [mail] = db.session.scalars(select(AlertDelivery)).all()
    assert mail.digest_slot == slot and "First box" in mail.body


def test_the_workers_upkeep_evaluates_and_sends(app, org, manager, run_jobs):
    from app.attention import schedule

    services.settings_set(channels={"product_review": {"email": "now"}}, webhook_url="", by=manager)
    helpers.product_in_review(org)
    schedule.tick(force=True)  # what every worker's upkeep does, at most once per ALERTS_EVALUATE_SECONDS
    assert not schedule.tick()  # a second worker right after: nothing more is queued
    run_jobs()
    assert [a.kind for a in _alerts(manager)] == ["product_review"]
    [mail] = db.session.scalars(select(AlertDelivery)).all()
    assert mail.status == DeliveryStatus.SENT and mail.transport == "outbox"


def test_a_failing_source_does_not_silence_the_others(app, org, manager):
    from app.core.attention import register_source, unregister_source

    def broken(org_id):
        raise RuntimeError("the source's store is down")

    register_source("zz_broken", label="Broken", roles=("manager",), count=broken, items=broken, find=broken,
                    conditions=broken, order=1)
    try:
        helpers.product_in_review(org)
        assert len(_evaluate(org)) == 1
    finally:
        unregister_source("zz_broken")


def test_backups_older_than_the_limit_alert_the_admins_once(app, org, admin, manager):
    from app.core.models import Organisation

    db.session.get(Organisation, org.id).created_at = utcnow() - timedelta(days=3)
    db.session.commit()
    assert _evaluate(org, {"backup"}) == ["backup.overdue"]
    assert _evaluate(org, {"backup"}) == []
    [alert] = _alerts(admin)
    assert alert.title == "Backups overdue or failed: Backups are overdue" and alert.url == "/admin/health"
    assert _alerts(manager) == []

"""The /todo page, its count, assign and snooze, and the alert settings: roles, tenancy, bad input."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.attention.models import AlertSettings, AttentionMark
from app.core.models import utcnow
from app.extensions import db
from tests.attention import helpers


def test_todo_lists_items_with_why_and_link(manager_client, org, other_org):
    product = helpers.product_in_review(org, title="Mystery box")
    helpers.product_in_review(other_org, title="Rival box")
    page = manager_client.get("/todo").get_data(as_text=True)
    assert "Mystery box" in page and "Rival box" not in page
    assert f'href="/review/?product={product.id}"' in page and "Waiting for review" in page
    badge = manager_client.get("/todo/count").get_data(as_text=True)
    assert 'data-testid="todo-count">1<' in badge


def test_filters_by_kind_and_role(manager_client, org):
    helpers.product_in_review(org, title="Mystery box")
    helpers.message_in_review(org)
    only_messages = manager_client.get("/todo?kind=message_review").get_data(as_text=True)
    assert "Mystery box" not in only_messages and "Message from" in only_messages
    staff_role = manager_client.get("/todo?role=staff").get_data(as_text=True)
    assert "Mystery box" not in staff_role and "Message from" in staff_role


def test_assign_to_me_and_the_mine_filter(manager_client, manager, org):
    product = helpers.product_in_review(org)
    helpers.product_in_review(org, title="Not mine")
    key = f"product_review.{product.id}"
    response = manager_client.htmx("post", f"/todo/{key}/assign", data={"to_me": "1"})
    assert response.status_code == 200 and "Give back" in response.get_data(as_text=True)
    mark = db.session.scalar(select(AttentionMark).where(AttentionMark.subject == str(product.id)))
    assert mark.assigned_to_id == manager.id
    mine = manager_client.get("/todo?mine=1").get_data(as_text=True)
    assert "Mystery box" in mine and "Not mine" not in mine


def test_snooze_hides_the_item_until_then(manager_client, org):
    product = helpers.product_in_review(org)
    key = f"product_review.{product.id}"
    response = manager_client.htmx("post", f"/todo/{key}/snooze", data={"for": "1d"})
    assert response.status_code == 200 and "Mystery box" not in response.get_data(as_text=True)
    assert "1 snoozed" in response.get_data(as_text=True)
    mark = db.session.scalar(select(AttentionMark).where(AttentionMark.subject == str(product.id)))
    assert timedelta(hours=23) < mark.snoozed_until - utcnow() <= timedelta(days=1)


def test_a_typed_time_is_read_in_the_readers_zone(manager_client, org):
    product = helpers.product_in_review(org)
    when = (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)
    local = when - timedelta(hours=2)  # a reader two hours behind UTC types their own clock
    manager_client.post(f"/todo/product_review.{product.id}/snooze",
                        data={"until": local.strftime("%Y-%m-%dT%H:%M"), "tz_offset": "120"})
    mark = db.session.scalar(select(AttentionMark).where(AttentionMark.subject == str(product.id)))
    assert mark.snoozed_until == when


@pytest.mark.parametrize("until, reason", [("", "Choose a date and time"), ("next tuesday", "is not a date and time"),
                                           ("2001-01-01T10:00", "Choose a time in the future"),
                                           ("2099-01-01T10:00", "Snooze for at most 90 days")])
def test_bad_snooze_times_are_said_inline_with_the_input_kept(manager_client, org, until, reason):
    product = helpers.product_in_review(org)
    response = manager_client.htmx("post", f"/todo/product_review.{product.id}/snooze", data={"until": until})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and reason in body and "Mystery box" in body
    assert f'value="{until}"' in body
    assert db.session.scalar(select(AttentionMark)) is None  # nothing half-written


def test_a_resolved_item_is_gone_and_acting_on_it_is_404(manager_client, org):
    from app.pipeline.models import ProductStatus

    product = helpers.product_in_review(org)
    product.status = ProductStatus.COMPLETED
    db.session.commit()
    assert manager_client.post(f"/todo/product_review.{product.id}/assign").status_code == 404
    assert manager_client.post("/todo/nonsense/assign").status_code == 404


def test_a_too_low_role_gets_403(staff_client, org):
    product = helpers.product_in_review(org)
    assert staff_client.post(f"/todo/product_review.{product.id}/assign").status_code == 403
    assert staff_client.post(f"/todo/product_review.{product.id}/snooze", data={"for": "1h"}).status_code == 403
    assert "Mystery box" not in staff_client.get("/todo").get_data(as_text=True)


def test_another_organisations_item_is_404(manager_client, other_org):
    theirs = helpers.product_in_review(other_org)
    assert manager_client.post(f"/todo/product_review.{theirs.id}/assign").status_code == 404
    assert manager_client.post(f"/todo/product_review.{theirs.id}/snooze", data={"for": "1h"}).status_code == 404


def test_pages_need_a_sign_in(client):
    for path in ("/todo", "/todo/count", "/alerts", "/alerts/settings"):
        assert client.get(path).status_code == 302


def test_alert_settings_saved_and_bad_webhook_refused_inline(manager_client, manager):
    page = manager_client.get("/alerts/settings").get_data(as_text=True)
    assert "Products waiting for review" in page
    response = manager_client.post("/alerts/settings", data={"product_review-email": "now",
                                                             "product_review-webhook": "now", "webhook_url": ""})
    assert response.status_code == 422 and "Give the webhook" in response.get_data(as_text=True)
    assert db.session.scalar(select(AlertSettings)) is None
    response = manager_client.post("/alerts/settings", data={"product_review-webhook": "now",
                                                             "webhook_url": "http://10.1.2.3/hook"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "http://10.1.2.3/hook" in body
    response = manager_client.post("/alerts/settings", data={"product_review-email": "now", "budget-app": "off",
                                                             "webhook_url": ""})
    assert response.status_code == 302
    saved = db.session.scalar(select(AlertSettings).where(AlertSettings.user_id == manager.id))
    assert saved.channels["product_review"]["email"] == "now" and saved.channels["budget"]["app"] == "off"


def test_a_source_that_cannot_answer_is_said_not_hidden(manager_client, org):
    from app.core.attention import register_source, unregister_source

    def broken(*args, **kwargs):
        raise RuntimeError("down")

    helpers.product_in_review(org)
    register_source("zz_broken", label="Broken things", roles=("manager",), count=broken, items=broken, find=broken,
                    conditions=broken, order=1)
    try:
        page = manager_client.get("/todo")
        body = page.get_data(as_text=True)
        assert page.status_code == 200 and "Mystery box" in body
        assert "Could not be looked at just now: Broken things" in body
        assert 'data-testid="todo-count">1+?<' in manager_client.get("/todo/count").get_data(as_text=True)
    finally:
        unregister_source("zz_broken")


def test_alerts_page_lists_alerts_and_the_outbox_and_marks_them_read(manager_client, manager, org):
    from app.attention import alerts, services

    services.settings_set(channels={"product_review": {"email": "now"}}, webhook_url="", by=manager)
    helpers.product_in_review(org)
    alerts.evaluate(org_id=org.id, lock=False)
    assert 'data-testid="alert-count">1 new' in manager_client.get("/todo/count").get_data(as_text=True)
    page = manager_client.get("/alerts").get_data(as_text=True)
    assert "Products waiting for review: Mystery box" in page and "pending" in page.lower()
    assert manager_client.post("/alerts/read").status_code == 302
    assert "alert-count" not in manager_client.get("/todo/count").get_data(as_text=True)

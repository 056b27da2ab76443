"""The to-do items through the API: the caller's open items as on /todo, paged and filtered;
taking and snoozing one, once per key; the kinds a role resolves; other organisations' items."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.attention.models import AttentionMark
from app.core.models import AuditEntry, utcnow
from app.extensions import db
from tests.attention.helpers import batch_with_failed_rows, message_in_review, product_in_review

PROBLEM = "application/problem+json"


def _keys(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [i["key"] for i in response.get_json()["data"]]


def test_open_items_are_listed_paged_and_filtered_by_kind(api, org, admin):
    first, second = product_in_review(org, title="Teapot"), product_in_review(org, title="Kettle")
    failed = batch_with_failed_rows(org, admin)
    every = _keys(api.get("/api/v1/attention"))
    assert {f"product_review.{first.id}", f"product_review.{second.id}", f"batch_failed.{failed.id}"} <= set(every)
    reviews = api.get("/api/v1/attention?kind=product_review&limit=1").get_json()
    item = reviews["data"][0]
    assert item["kind"] == "product_review" and item["title"] and item["why"] and item["url"].startswith("/")
    assert item["assigned_to"] is None and reviews["next_cursor"] == "1"
    rest = _keys(api.get(f"/api/v1/attention?kind=product_review&limit=1&cursor={reviews['next_cursor']}"))
    assert sorted([item["key"], *rest]) == sorted([f"product_review.{first.id}", f"product_review.{second.id}"])
    assert _keys(api.get("/api/v1/attention?kind=no_such_kind")) == []
    assert api.get("/api/v1/attention?mine=perhaps").status_code == 422


def test_an_item_is_taken_and_snoozed_once_per_key_and_woken(api, org, admin):
    product = product_in_review(org)
    key = f"product_review.{product.id}"
    taken = api.post(f"/api/v1/attention/{key}/assign", json={})
    assert taken.status_code == 200 and taken.get_json()["assigned_to"] == admin.email
    assert _keys(api.get("/api/v1/attention?mine=true")) == [key]
    until = (utcnow() + timedelta(hours=4)).isoformat()
    snoozed = api.post(f"/api/v1/attention/{key}/snooze", json={"until": until}, headers={"Idempotency-Key": "z-1"})
    again = api.post(f"/api/v1/attention/{key}/snooze", json={"until": until}, headers={"Idempotency-Key": "z-1"})
    assert snoozed.status_code == again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert snoozed.get_json()["snoozed_until"] and key not in _keys(api.get("/api/v1/attention"))
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "attention.snooze")).one().api_token_name
    woken = api.post(f"/api/v1/attention/{key}/snooze", json={"until": None})
    assert woken.get_json()["snoozed_until"] is None and key in _keys(api.get("/api/v1/attention"))
    given_back = api.post(f"/api/v1/attention/{key}/assign", json={"to_me": False})
    assert given_back.get_json()["assigned_to"] is None


def test_a_bad_snooze_time_is_a_422_naming_until(api, org):
    key = f"product_review.{product_in_review(org).id}"
    past = api.post(f"/api/v1/attention/{key}/snooze", json={"until": (utcnow() - timedelta(hours=1)).isoformat()})
    assert past.status_code == 422 and past.get_json()["errors"][0]["field"] == "until"
    garbled = api.post(f"/api/v1/attention/{key}/snooze", json={"until": "next tuesday"})
    assert garbled.status_code == 422 and garbled.get_json()["errors"][0]["field"] == "until"
    assert db.session.scalar(select(AttentionMark)) is None


def test_roles_see_and_resolve_only_their_kinds_and_scopes_limit_a_token(token_for, staff, manager, org):
    product, message = product_in_review(org), message_in_review(org)
    staff_keys = _keys(token_for(staff).get("/api/v1/attention"))
    assert f"message_review.{message.id}" in staff_keys and f"product_review.{product.id}" not in staff_keys
    refused = token_for(staff).post(f"/api/v1/attention/product_review.{product.id}/assign", json={})
    assert refused.status_code == 403 and refused.mimetype == PROBLEM
    reader = token_for(manager, ["attention:read"])
    assert reader.get("/api/v1/attention").status_code == 200
    no_scope = reader.post(f"/api/v1/attention/product_review.{product.id}/assign", json={})
    assert no_scope.status_code == 403 and "attention:write" in no_scope.get_json()["detail"]


def test_another_organisations_item_is_404_and_never_listed(api, other_org):
    theirs = product_in_review(other_org, title="Their secret")
    assert "Their secret" not in api.get("/api/v1/attention").get_data(as_text=True)
    for action in ("assign", "snooze"):
        response = api.post(f"/api/v1/attention/product_review.{theirs.id}/{action}", json={})
        assert response.status_code == 404 and "Their secret" not in response.get_data(as_text=True)
    assert api.post("/api/v1/attention/no-such-thing/assign", json={}).status_code == 404

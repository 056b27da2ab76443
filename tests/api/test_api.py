"""The JSON API as scripts use it: tokens and scopes, problem details, cursors, ETags,
idempotency keys, and the OpenAPI document generated from the code."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.accounts.models import ApiToken
from app.core import users
from app.core.models import Role, utcnow
from app.extensions import db
from app.inventory.models import StockMovement
from app.inventory.services import item_create

PROBLEM = "application/problem+json"


def _item(org, sku="RING-1", stock=5):
    return item_create(org_id=org.id, by=None, initial_stock=stock, sku=sku, title=f"Silver ring {sku}")


def test_no_token_or_a_bad_one_is_401_problem_details(client, api, admin):
    response = client.get("/api/v1/inventory/items")
    assert response.status_code == 401 and response.mimetype == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.get_json()
    assert body["status"] == 401 and body["title"] == "Unauthorized" and body["instance"] == "/api/v1/inventory/items"
    assert client.get("/api/v1/inventory/items", headers={"Authorization": "Bearer srk_nope"}).status_code == 401
    token = db.session.scalars(select(ApiToken)).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert api.get("/api/v1/inventory/items").status_code == 401


def test_a_revoked_token_stops_at_once_and_its_last_use_is_shown(admin_client, api):
    assert api.get("/api/v1/inventory/items").status_code == 200
    token = db.session.scalars(select(ApiToken)).one()
    assert token.last_used_at is not None
    assert admin_client.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    response = api.get("/api/v1/inventory/items")
    assert response.status_code == 401 and response.get_json()["detail"] == "The token is unknown, expired or revoked."


def test_scopes_and_the_owners_current_role_limit_a_token(token_for, admin, manager, org):
    reader = token_for(manager, ["inventory:read"])
    item = _item(org)
    assert reader.get(f"/api/v1/inventory/items/{item.id}").status_code == 200
    response = reader.post(f"/api/v1/inventory/items/{item.id}/adjustments", json={"delta": 1, "reason": "count"})
    assert response.status_code == 403 and response.mimetype == PROBLEM
    writer = token_for(manager, ["inventory:read", "inventory:write"])
    users.user_change_role(org_id=org.id, user_id=manager.id, role=Role.STAFF, by=admin)
    response = writer.post(f"/api/v1/inventory/items/{item.id}/adjustments", json={"delta": 1, "reason": "count"})
    assert response.status_code == 403 and "role" in response.get_json()["detail"]


def test_another_organisations_rows_are_404(token_for, make_user, other_org, api):
    theirs = _item(other_org, "THEIRS-1")
    response = api.get(f"/api/v1/inventory/items/{theirs.id}")
    assert response.status_code == 404 and response.mimetype == PROBLEM
    assert "THEIRS" not in response.get_data(as_text=True)
    assert api.post(f"/api/v1/inventory/items/{theirs.id}/adjustments",
                    json={"delta": 1, "reason": "count"}).status_code == 404
    assert api.get("/api/v1/inventory/items").get_json()["data"] == []


def test_lists_page_with_cursors(api, org):
    for n in range(5):
        _item(org, f"SKU-{n}")
    first = api.get("/api/v1/inventory/items?limit=2").get_json()
    assert [i["sku"] for i in first["data"]] == ["SKU-4", "SKU-3"] and first["next_cursor"]
    second = api.get(f"/api/v1/inventory/items?limit=2&cursor={first['next_cursor']}").get_json()
    assert [i["sku"] for i in second["data"]] == ["SKU-2", "SKU-1"]
    third = api.get(f"/api/v1/inventory/items?limit=2&cursor={second['next_cursor']}").get_json()
    assert [i["sku"] for i in third["data"]] == ["SKU-0"] and third["next_cursor"] is None
    bad = api.get("/api/v1/inventory/items?cursor=!!!")
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "cursor"
    assert api.get("/api/v1/inventory/items?limit=1000").status_code == 422
    # Past the largest id (32 bits on PostgreSQL): the list from the newest, not a database error.
    huge = api.get("/api/v1/inventory/items?limit=2&cursor=2963449410546").get_json()
    assert [i["sku"] for i in huge["data"]] == ["SKU-4", "SKU-3"]


def test_reads_carry_an_etag_and_answer_304_until_something_changes(api, org):
    item = _item(org)
    first = api.get(f"/api/v1/inventory/items/{item.id}")
    etag = first.headers["ETag"]
    again = api.get(f"/api/v1/inventory/items/{item.id}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    api.post(f"/api/v1/inventory/items/{item.id}/adjustments", json={"delta": 2, "reason": "found two"})
    changed = api.get(f"/api/v1/inventory/items/{item.id}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["on_hand"] == 7


def test_an_adjustment_goes_into_the_ledger_once_per_idempotency_key(api, org):
    item = _item(org)
    path = f"/api/v1/inventory/items/{item.id}/adjustments"
    first = api.post(path, json={"delta": -2, "reason": "damaged"}, headers={"Idempotency-Key": "k-1"})
    again = api.post(path, json={"delta": -2, "reason": "damaged"}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json() and first.get_json()["on_hand"] == 3
    assert again.headers["Idempotent-Replayed"] == "true"
    other = api.post(path, json={"delta": -1, "reason": "damaged"}, headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422 and other.get_json()["errors"][0]["field"] == "Idempotency-Key"
    moves = db.session.scalar(select(func.count()).select_from(StockMovement).where(StockMovement.item_id == item.id))
    assert moves == 2  # initial stock and one adjustment
    ledger = api.get(f"/api/v1/inventory/items/{item.id}/movements").get_json()["data"]
    assert [m["on_hand_delta"] for m in ledger] == [-2, 5]


def test_bad_bodies_are_4xx_problem_details_naming_the_field(api, org, app):
    item = _item(org)
    path = f"/api/v1/inventory/items/{item.id}/adjustments"
    wrong_type = api.post(path, json={"delta": "many", "reason": "count"})
    assert wrong_type.status_code == 422 and wrong_type.get_json()["errors"][0]["field"] == "delta"
    unknown = api.post(path, json={"delta": 1, "reason": "count", "colour": "red"})
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "colour"
    malformed = api.post(path, data="{not json", content_type="application/json")
    assert 400 <= malformed.status_code < 500 and malformed.mimetype == PROBLEM
    too_much = api.post(path, json={"delta": -50, "reason": "count"})
    assert too_much.status_code == 409 and too_much.get_json()["errors"][0]["field"] == "delta"
    app.config["API_MAX_JSON_BYTES"] = 100
    huge = api.post(path, json={"delta": 1, "reason": "x" * 500})
    assert huge.status_code == 413 and huge.mimetype == PROBLEM
    assert db.session.scalar(select(func.count()).select_from(StockMovement)) == 1  # nothing half-written
    assert api.get("/api/v1/no-such-thing").status_code == 404


def test_the_openapi_document_is_generated_from_the_code(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert {"/api/v1/products", "/api/v1/inventory/items/{item_id}/adjustments", "/api/v1/orders"} <= set(doc["paths"])
    adjust = doc["paths"]["/api/v1/inventory/items/{item_id}/adjustments"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in adjust["parameters"])
    assert "application/problem+json" in adjust["responses"]["422"]["content"]
    assert doc["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    assert client.get("/api/v1/reference").status_code == 302
    assert b"openapi.json" in client.get("/static/api/reference.html").data


def test_tokens_are_shown_once_and_stored_hashed_and_admins_revoke_any(admin_client, client_for, manager):
    page = client_for(manager).post("/account/tokens", data={"name": "shop sync", "scopes": ["orders:read"],
                                                             "expires_days": "30"}).get_data(as_text=True)
    assert "srk_" in page and "shown only this once" in page
    token = db.session.scalars(select(ApiToken)).one()
    assert token.token_hash not in page and token.scopes == ["orders:read"]
    assert "shop sync" in admin_client.get("/admin/api-tokens").get_data(as_text=True)
    assert admin_client.post(f"/admin/api-tokens/{token.id}/revoke").status_code == 302
    db.session.refresh(token)
    assert token.revoked_at is not None


def test_a_token_cannot_get_more_than_the_role_allows(client_for, staff):
    response = client_for(staff).post("/account/tokens", data={"name": "x", "scopes": ["inventory:write"],
                                                               "expires_days": "30"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_only_admins_see_the_organisations_tokens(manager_client):
    assert manager_client.get("/admin/api-tokens").status_code == 403


def _order_body(item, quantity=2, **extra):
    return {"customer": {"name": "Ada Customer", "email": "ada@example.com"},
            "lines": [{"item_id": item.id, "quantity": quantity}], **extra}


def test_an_order_is_created_confirmed_shipped_once_per_key(api, org):
    item = item_create(org_id=org.id, by=None, initial_stock=5, sku="RING-9", title="Ring", price="20.00",
                       currency="EUR")
    first = api.post("/api/v1/orders", json=_order_body(item), headers={"Idempotency-Key": "order-1"})
    again = api.post("/api/v1/orders", json=_order_body(item), headers={"Idempotency-Key": "order-1"})
    assert first.status_code == again.status_code == 201 and first.get_json() == again.get_json()
    order = first.get_json()
    assert order["status"] == "draft" and order["total"] == "40.00" and order["actions"] == ["confirm", "cancel"]
    assert len(api.get("/api/v1/orders").get_json()["data"]) == 1
    confirmed = api.post(f"/api/v1/orders/{order['id']}/confirm", json={})
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "confirmed"
    assert api.get(f"/api/v1/inventory/items/{item.id}").get_json()["reserved"] == 2
    again = api.post(f"/api/v1/orders/{order['id']}/confirm", json={})
    assert again.status_code == 409 and again.mimetype == PROBLEM
    shipped = api.post(f"/api/v1/orders/{order['id']}/ship", json={"note": "DHL 123"})
    assert shipped.status_code == 200 and shipped.get_json()["status"] == "shipped"
    assert api.get(f"/api/v1/inventory/items/{item.id}").get_json()["on_hand"] == 3


def test_an_order_with_an_unknown_item_or_too_much_stock_is_refused_whole(api, org, other_org):
    theirs = item_create(org_id=other_org.id, by=None, initial_stock=5, sku="T-1", title="Theirs", price="1.00",
                         currency="EUR")
    response = api.post("/api/v1/orders", json=_order_body(theirs))
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert api.get("/api/v1/orders").get_json()["data"] == []
    mine = item_create(org_id=org.id, by=None, initial_stock=1, sku="M-1", title="Mine", price="1.00",
                       currency="EUR")
    order = api.post("/api/v1/orders", json=_order_body(mine, quantity=3)).get_json()
    short = api.post(f"/api/v1/orders/{order['id']}/confirm", json={})
    assert short.status_code == 409 and "M-1" in short.get_json()["detail"]
    assert api.get(f"/api/v1/orders/{order['id']}").get_json()["status"] == "draft"


def test_batches_show_their_progress_and_staff_tokens_cannot_read_them(api, org, admin, token_for, staff):
    from app.batches.models import Batch, BatchStatus

    batch = Batch(organisation_id=org.id, created_by_id=admin.id, filename="spring.csv", stored_sha256="0" * 64,
                  stored_suffix=".csv", size_bytes=10, format={}, mapping={}, status=BatchStatus.PROCESSING,
                  total_rows=10, processed_rows=4, successful_rows=3, failed_rows=1, max_concurrent_jobs=1,
                  chunk_size=10)
    db.session.add(batch)
    db.session.commit()
    listed = api.get("/api/v1/batches?status=processing").get_json()["data"]
    assert [(b["filename"], b["processed_rows"], b["failed_rows"]) for b in listed] == [("spring.csv", 4, 1)]
    assert api.get(f"/api/v1/batches/{batch.id}").get_json()["status"] == "processing"
    staff_token = token_for(staff)  # only the scopes a staff role may hold
    assert staff_token.get(f"/api/v1/batches/{batch.id}").status_code == 403


def test_requests_are_rate_limited_per_token(app, token_for, admin, manager):
    app.config["API_RATE_LIMIT"] = "2 per minute"
    busy, other = token_for(admin), token_for(manager)
    statuses = [busy.get("/api/v1/inventory/items").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = busy.get("/api/v1/inventory/items")
    assert limited.mimetype == PROBLEM and "Retry-After" in limited.headers
    assert other.get("/api/v1/inventory/items").status_code == 200  # another token has its own budget


def test_a_nul_character_in_a_query_parameter_is_a_400_problem_not_a_server_error(api, client_for, manager):
    """PostgreSQL's text cannot hold NUL: the request is refused before any query (the API fuzzer found it)."""
    answer = api.get("/api/v1/inventory/items?limit=13&sku=%00%C2%A0")
    assert answer.status_code == 400 and answer.is_json and "NUL" in answer.get_json()["detail"]
    page = client_for(manager).get("/inventory/?q=%00")
    assert page.status_code == 400

"""POST /api/v1/products: photos checked by content as on the upload page, bad files named,
once per idempotency key, optionally started; and the audit row names the token."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from app.core.models import AuditEntry
from app.extensions import db
from app.pipeline.models import Product
from tests.pipeline.helpers import BLANK_PHOTO, EAN_PHOTO

PROBLEM = "application/problem+json"


def _photos(*files, **fields) -> dict:
    parts = [(io.BytesIO(data), name) for name, data in files]
    return {"data": {"photos": parts, **fields}, "content_type": "multipart/form-data"}


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Product))


def test_a_product_is_created_from_photos_once_per_key_and_bad_files_are_named(api):
    sent = _photos(("shelf.webp", BLANK_PHOTO.read_bytes()), ("notes.txt", b"not an image at all"),
                   name="Blue teapot", model="TP-2", condition="used")
    first = api.post("/api/v1/products", headers={"Idempotency-Key": "photo-1"}, **sent)
    assert first.status_code == 201, first.get_data(as_text=True)
    body = first.get_json()
    assert body["status"] == "uploaded" and body["name"] == "Blue teapot" and body["model"] == "TP-2"
    assert body["condition"] == "used" and [i["filename"] for i in body["images"]] == ["shelf.webp"]
    assert body["photos_accepted"] == ["shelf.webp"]
    assert [r["filename"] for r in body["photos_rejected"]] == ["notes.txt"] and body["photos_rejected"][0]["reason"]
    assert first.headers["Location"] == f"/api/v1/products/{body['id']}"
    again = api.post("/api/v1/products", headers={"Idempotency-Key": "photo-1"},
                     **_photos(("shelf.webp", BLANK_PHOTO.read_bytes()), ("notes.txt", b"not an image at all"),
                               name="Blue teapot", model="TP-2", condition="used"))
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == body and _count() == 1
    assert api.get(f"/api/v1/products/{body['id']}").get_json()["images"][0]["width"] > 0


def test_start_true_starts_the_pipeline_at_once(api):
    response = api.post("/api/v1/products", **_photos(("book.webp", EAN_PHOTO.read_bytes()), start="true"))
    assert response.status_code == 201 and response.get_json()["status"] == "processing"


def test_no_usable_photo_is_a_422_naming_each_file_and_creates_nothing(api, app):
    app.config["PIPELINE_MAX_FILE_BYTES"] = 2000
    response = api.post("/api/v1/products", **_photos(("fake.jpg", b"\xff\xd8\xff not really a jpeg"),
                                                      ("big.webp", BLANK_PHOTO.read_bytes())))
    assert response.status_code == 422 and response.mimetype == PROBLEM
    errors = response.get_json()["errors"]
    assert [e["field"] for e in errors] == ["photos", "photos"]
    assert errors[0]["message"].startswith("fake.jpg:") and "larger than" in errors[1]["message"]
    assert _count() == 0


def test_a_body_without_photos_or_with_unknown_fields_is_refused(api):
    as_json = api.post("/api/v1/products", json={"name": "x"})
    assert as_json.status_code == 415 and as_json.mimetype == PROBLEM
    no_file = api.post("/api/v1/products", data={"name": "x"}, content_type="multipart/form-data")
    assert no_file.status_code == 422 and no_file.get_json()["errors"][0]["field"] == "photos"
    unknown = api.post("/api/v1/products", **_photos(("a.webp", BLANK_PHOTO.read_bytes()), colour="red"))
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "colour"
    assert _count() == 0


def test_a_photo_upload_may_be_larger_than_a_json_body(api, app):
    app.config["API_MAX_JSON_BYTES"] = 100
    response = api.post("/api/v1/products", **_photos(("a.webp", BLANK_PHOTO.read_bytes())))
    assert response.status_code == 201
    assert api.post("/api/v1/orders", json={"notes": "x" * 200}).status_code == 413


def test_creating_needs_the_write_scope_and_a_role_that_uploads(token_for, manager, staff):
    reader = token_for(manager, ["products:read"])
    response = reader.post("/api/v1/products", **_photos(("a.webp", BLANK_PHOTO.read_bytes())))
    assert response.status_code == 403 and "products:write" in response.get_json()["detail"]
    assert token_for(staff).post("/api/v1/products", **_photos(("a.webp", BLANK_PHOTO.read_bytes()))).status_code == 403
    assert _count() == 0


def test_another_organisations_product_is_404(api, other_org, make_user):
    from tests.pipeline.helpers import create_product

    theirs = create_product(other_org, make_user(other_org), start=False)
    assert api.get(f"/api/v1/products/{theirs.id}").status_code == 404
    assert api.post(f"/api/v1/products/{theirs.id}/start").status_code == 404


def test_the_audit_log_names_the_owner_and_the_token(api, admin, admin_client):
    product_id = api.post("/api/v1/products", **_photos(("a.webp", BLANK_PHOTO.read_bytes()))).get_json()["id"]
    api.post(f"/api/v1/products/{product_id}/start")
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "product")
                                 .order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["product.uploaded", "product.started"]
    assert {(e.actor_id, e.api_token_name) for e in entries} == {(admin.id, "test script")}
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert f"{admin.email} via token &#39;test script&#39;" in page
    admin_client.post(f"/products/{product_id}/stop")  # the same person on the page: no token named
    stopped = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "product.stopped")).one()
    assert stopped.api_token_name is None and stopped.who == admin.email

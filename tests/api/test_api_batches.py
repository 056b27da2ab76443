"""CSV batches through the API: upload (checked like the page), start with the suggested or a
chosen mapping, progress, each row's result or error, the error report; scopes and tenancy."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from app.batches.models import Batch
from app.extensions import db

PROBLEM = "application/problem+json"
CSV = (b"Product Name,MPN,Country of origin\n"
       b"Gold chain,GC-001,Poland\n"
       b",SH-002,Italy\n"
       b"Silver hoop,SH-003,Spain\n")


def _csv(data: bytes = CSV, name: str = "spring.csv") -> dict:
    return {"data": {"file": (io.BytesIO(data), name)}, "content_type": "multipart/form-data"}


def _batches() -> int:
    return db.session.scalar(select(func.count()).select_from(Batch))


def test_a_csv_is_uploaded_once_per_key_started_and_read_row_by_row(api, run_jobs):
    first = api.post("/api/v1/batches", headers={"Idempotency-Key": "csv-1"}, **_csv())
    assert first.status_code == 201, first.get_data(as_text=True)
    batch = first.get_json()
    assert batch["status"] == "uploaded" and batch["mapping"]["title"] == "Product Name"
    assert batch["validation"] is None and batch["error_report"] is None
    again = api.post("/api/v1/batches", headers={"Idempotency-Key": "csv-1"}, **_csv())
    assert again.get_json() == batch and again.headers["Idempotent-Replayed"] == "true" and _batches() == 1

    started = api.post(f"/api/v1/batches/{batch['id']}/start", json={"max_concurrent_jobs": 2})
    assert started.status_code == 200, started.get_data(as_text=True)
    body = started.get_json()
    assert body["status"] in ("queued", "processing") and body["total_rows"] == 3 and body["failed_rows"] == 1
    assert body["validation"]["rows_with_problems"] == 1 and body["error_report"].endswith("/errors.csv")

    failed = api.get(f"/api/v1/batches/{batch['id']}/rows?status=failed").get_json()["data"]
    assert [(r["row_number"], r["status"]) for r in failed] == [(3, "failed")] and "title" in failed[0]["error"]
    report = api.get(body["error_report"])
    assert report.status_code == 200 and report.mimetype == "text/csv"
    assert report.get_data(as_text=True).splitlines()[1].startswith("3,")

    run_jobs()
    done = api.get(f"/api/v1/batches/{batch['id']}").get_json()
    assert done["status"] == "completed_with_errors" and done["percent"] == 100 and done["successful_rows"] == 2
    page = api.get(f"/api/v1/batches/{batch['id']}/rows?limit=2").get_json()
    assert [r["row_number"] for r in page["data"]] == [2, 3] and page["data"][0]["results"]
    rest = api.get(f"/api/v1/batches/{batch['id']}/rows?limit=2&cursor={page['next_cursor']}").get_json()
    assert [r["row_number"] for r in rest["data"]] == [4] and rest["next_cursor"] is None


def test_a_file_the_page_refuses_is_a_422_naming_the_file(api):
    empty = api.post("/api/v1/batches", **_csv(b"", "empty.csv"))
    assert empty.status_code == 422 and empty.mimetype == PROBLEM
    assert empty.get_json()["errors"][0]["field"] == "file" and "empty.csv" in empty.get_json()["detail"]
    assert api.post("/api/v1/batches", json={"file": "a,b"}).status_code == 415
    assert _batches() == 0


def test_a_mapping_the_file_cannot_satisfy_is_a_422_and_nothing_starts(api):
    batch = api.post("/api/v1/batches", **_csv()).get_json()
    wrong = api.post(f"/api/v1/batches/{batch['id']}/start", json={"mapping": {"title": "No such column"}})
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "mapping"
    unknown = api.post(f"/api/v1/batches/{batch['id']}/start", json={"mapping": {"colour": "MPN"}})
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"].startswith("mapping")
    assert api.get(f"/api/v1/batches/{batch['id']}").get_json()["status"] == "uploaded"
    chosen = api.post(f"/api/v1/batches/{batch['id']}/start", json={"mapping": {"title": "MPN"}})
    assert chosen.status_code == 200 and chosen.get_json()["failed_rows"] == 0
    twice = api.post(f"/api/v1/batches/{batch['id']}/start", json={})
    assert twice.status_code == 409 and twice.mimetype == PROBLEM


def test_batches_need_their_scopes_and_a_manager(token_for, manager, staff, api):
    batch = api.post("/api/v1/batches", **_csv()).get_json()
    reader = token_for(manager, ["batches:read"])
    assert reader.get(f"/api/v1/batches/{batch['id']}/rows").status_code == 200
    refused = reader.post(f"/api/v1/batches/{batch['id']}/start", json={})
    assert refused.status_code == 403 and "batches:write" in refused.get_json()["detail"]
    assert reader.post("/api/v1/batches", **_csv()).status_code == 403
    assert token_for(staff).get(f"/api/v1/batches/{batch['id']}/rows").status_code == 403
    assert _batches() == 1


def test_another_organisations_batch_is_404_everywhere(api, other_org, make_user):
    from tests.attention.helpers import batch_with_failed_rows

    theirs = batch_with_failed_rows(other_org, make_user(other_org))
    for path in ("", "/rows", "/errors.csv"):
        response = api.get(f"/api/v1/batches/{theirs.id}{path}")
        assert response.status_code == 404 and "spring.csv" not in response.get_data(as_text=True)
    assert api.post(f"/api/v1/batches/{theirs.id}/start", json={}).status_code == 404

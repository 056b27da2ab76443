"""A script uploads and starts a CSV batch with a personal token; the person who owns the token
watches it finish on the batch page without a reload, and the audit log names them and the token."""
from __future__ import annotations

from playwright.sync_api import expect

from app.accounts.tokens import token_create
from tests.batches.helpers import products_csv
from tests.browser.conftest import sign_in


def test_a_batch_sent_through_the_api_is_followed_on_its_page_and_audited(page, admin, start_worker, app):
    app.config["BATCH_CHUNK_SIZE"] = 5
    _, secret = token_create(user=admin, name="shop sync", scopes=["batches:read", "batches:write"], expires_days=7)
    auth = {"Authorization": f"Bearer {secret}"}
    upload = page.request.post("/api/v1/batches", headers={**auth, "Idempotency-Key": "nightly-1"}, multipart={
        "file": {"name": "nightly.csv", "mimeType": "text/csv", "buffer": products_csv(20)}})
    assert upload.status == 201, upload.text()
    batch = upload.json()
    assert batch["mapping"]["title"] == "Product Name"
    started = page.request.post(f"/api/v1/batches/{batch['id']}/start", headers=auth, data={})
    assert started.status == 200, started.text()

    sign_in(page, admin)
    page.goto(f"/batches/{batch['id']}")
    expect(page.get_by_test_id("progress-counts")).to_contain_text("of 20 rows")
    page.evaluate("window.__notReloaded = true")
    start_worker()
    expect(page.get_by_test_id("progress-percent")).to_have_text("100 %", timeout=60_000)
    assert page.evaluate("window.__notReloaded") is True
    done = page.request.get(f"/api/v1/batches/{batch['id']}", headers=auth).json()
    assert done["status"] == "completed" and done["successful_rows"] == 20

    page.goto("/admin/audit")
    expect(page.locator("tr", has_text="batch.start")).to_contain_text(f"{admin.email} via token 'shop sync'")
    expect(page.locator("tr", has_text="batch.upload")).to_contain_text("via token 'shop sync'")


def test_the_reference_page_shows_the_upload_operations_form_fields(page):
    page.goto("/api/v1/reference")
    upload = page.locator("section", has_text="POST /api/v1/products").filter(has_text="Form fields").first
    expect(upload).to_contain_text("Form fields (multipart/form-data)")
    expect(upload.locator("tr", has_text="photos").first).to_contain_text("list of file")
    expect(upload.locator("tr", has_text="images").first).to_contain_text("list of ImageOut")
    expect(page.locator("section", has_text="GET /api/v1/attention").first).to_contain_text("Answer fields")
